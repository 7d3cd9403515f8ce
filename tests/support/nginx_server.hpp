// Test support: a real nginx (Debian's nginx-light) on 127.0.0.1, started as a child
// process with a config the test writes into a temporary directory, for testing the HTTP
// client against a server torsion did not write.
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "external_server.hpp"

namespace torsion_test {

/// What the fixture's nginx serves, besides the files a test writes into root():
///
/// | path | what |
/// |---|---|
/// | `/r/301` → `/r/302` → `/r/303` → `/r/307` → `/r/308` → `/method` | a redirect chain, one of each code |
/// | `/r/307` → `/r/308` → `/method` | the tail: methods and bodies kept |
/// | `/r/loop-a` ⇄ `/r/loop-b` | a redirect loop |
/// | `/r/ftp` | a redirect to `ftp://` |
/// | `/method` | 200 with the request's method and `\n` as the body |
/// | `/credentials` | 200 with the request's `Authorization`, `|`, its `Cookie` and `\n` |
/// | `/r/credentials` → `/credentials` | a same-origin redirect (302) |
///
/// gzip is on for `text/plain` (`.txt` files), of any size; nginx sends such responses
/// chunked. The access log has one line per request:
/// `<$connection> <$connection_requests> <method> <uri> <status> <body bytes sent>`.
///
/// With `tls`, a second server serves the same root and locations over TLS on tlsPort()
/// (on 127.0.0.1, and on 127.0.0.2 for host-name mismatch tests), and the plain server
/// adds `/r/https` → `https://127.0.0.1:<tlsPort>/method` and `/r/https-credentials` →
/// `https://127.0.0.1:<tlsPort>/credentials` (both 301: the scheme changes, so the origin).
struct NginxConfig {
  /// The TLS server's certificate chain and key (PEM files); both empty: no TLS server.
  struct TlsFiles {
    std::string certificateChainFile;  ///< `ssl_certificate`
    std::string privateKeyFile;        ///< `ssl_certificate_key`
  };

  /// `keepalive_requests`: requests one connection may carry.
  int keepaliveRequests = 1000;
  /// `keepalive_timeout`, in seconds.
  int keepaliveTimeoutSeconds = 60;
  /// `worker_connections`.
  int workerConnections = 1024;
  /// The TLS server's files, if there is one.
  std::optional<TlsFiles> tls;
};

/// One line of the fixture's access log.
struct NginxLogEntry {
  std::uint64_t connection = 0;          ///< nginx's connection serial number ($connection)
  std::uint64_t connectionRequests = 0;  ///< the request's number on its connection, from 1
  std::string method;                    ///< the request method
  std::string uri;                       ///< the normalised URI ($uri)
  int status = 0;                        ///< the response status
  std::uint64_t bodyBytes = 0;           ///< $body_bytes_sent
};

/// A running nginx in a temporary directory (config, root, logs, pid and temp paths all
/// inside it), listening on 127.0.0.1 on a free port; stopped and its directory removed
/// when this object goes.
class NginxServer : public ExternalServer {
 public:
  /// Where Debian installs nginx.
  static constexpr const char* binary = "/usr/sbin/nginx";

  /// Why nginx cannot run here (for GTEST_SKIP), or nullopt when it can.
  static std::optional<std::string> unavailableReason() {
    if (::access(binary, X_OK) != 0) {
      return std::string(binary) + " is not installed (apt-get install nginx-light)";
    }
    return std::nullopt;
  }

  /// Starts nginx and waits until it accepts connections.
  /// @throws std::runtime_error when it does not start (with its error log).
  explicit NginxServer(NginxConfig config = {}) : ExternalServer("nginx", SIGQUIT), config_(config) {
    std::filesystem::create_directories(directory() / "www");
    std::filesystem::create_directories(directory() / "tmp");
    start();
  }

  /// The port nginx listens on (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }
  /// The port of the TLS server (0 without NginxConfig::tls).
  std::uint16_t tlsPort() const noexcept { return tlsPort_; }
  /// "https://`host`:TLSPORT" + `path` (the certificate decides which hosts verify).
  std::string httpsUrl(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(tlsPort_) + path;
  }
  /// "http://127.0.0.1:PORT" + `path`.
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  /// The document root: files written here are served at "/" + their name.
  std::filesystem::path root() const { return directory() / "www"; }

  /// Writes `content` to root()/`name` (served at "/" + name).
  void writeFile(const std::string& name, const std::string& content) const {
    std::ofstream out(root() / name, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + (root() / name).string());
  }

  /// The access log so far. nginx writes each line when the request ends, before the
  /// next request on that connection is read.
  std::vector<NginxLogEntry> accessLog() const {
    std::vector<NginxLogEntry> entries;
    std::ifstream in(directory() / "access.log");
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      NginxLogEntry entry;
      if (fields >> entry.connection >> entry.connectionRequests >> entry.method >> entry.uri >> entry.status >>
          entry.bodyBytes) {
        entries.push_back(std::move(entry));
      }
    }
    return entries;
  }

  /// The access log once it has at least `count` lines (nginx writes a line just after
  /// the response went out, so a client may see the response first), or as it is after
  /// `seconds`.
  std::vector<NginxLogEntry> waitForAccessLog(std::size_t count, double seconds = 5.0) const {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    for (;;) {
      auto entries = accessLog();
      if (entries.size() >= count || std::chrono::steady_clock::now() >= deadline) return entries;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a file another process writes
    }
  }

  /// nginx's error log so far, for failure messages.
  std::string errorLog() const { return readText(directory() / "error.log"); }

  /// Deterministic pseudo-random bytes (the same `size` and `seed` give the same bytes).
  static std::string randomBytes(std::size_t size, std::uint32_t seed = 1) {
    std::mt19937_64 generator(seed);
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
      const std::uint64_t word = generator();
      std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
    }
    return bytes;
  }

 private:
  void configure() override {
    port_ = freePort();
    if (config_.tls) tlsPort_ = freePort();
    std::filesystem::remove(directory() / "error.log");
    writeConfig();
  }

  std::vector<std::string> command() const override {
    const std::string d = directory().string();
    return {binary, "-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log"};
  }

  // The pid file is written after the port is bound: a connection accepted before it
  // could be another program's, on a port taken since freePort.
  bool ready() const override {
    return readText(directory() / "nginx.pid").find(std::to_string(pid())) == 0 && accepts();
  }

  std::string log() const override { return errorLog(); }

  void writeConfig() const {
    const std::string d = directory().string();
    std::ofstream out(directory() / "nginx.conf", std::ios::trunc);
    out << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        << "pid " << d << "/nginx.pid;\n"
        << "error_log " << d << "/error.log warn;\n"
        << "events { worker_connections " << config_.workerConnections << "; }\n"
        << "http {\n"
        << "  log_format conn '$connection $connection_requests $request_method $uri $status $body_bytes_sent';\n"
        << "  access_log " << d << "/access.log conn;\n"
        << "  client_body_temp_path " << d << "/tmp/body;\n"
        << "  proxy_temp_path " << d << "/tmp/proxy;\n"
        << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
        << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
        << "  scgi_temp_path " << d << "/tmp/scgi;\n"
        << "  types { text/plain txt; text/html html; application/octet-stream bin; }\n"
        << "  default_type application/octet-stream;\n"
        << "  sendfile on;\n  tcp_nodelay on;\n"
        << "  keepalive_requests " << config_.keepaliveRequests << ";\n"
        << "  keepalive_timeout " << config_.keepaliveTimeoutSeconds << "s;\n"
        << "  gzip on;\n  gzip_types text/plain;\n  gzip_min_length 0;\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << port_ << ";\n"
        << "    server_name localhost;\n";
    if (config_.tls) {
      out << "    location = /r/https { return 301 https://127.0.0.1:" << tlsPort_ << "/method; }\n"
          << "    location = /r/https-credentials { return 301 https://127.0.0.1:" << tlsPort_ << "/credentials; }\n";
    }
    writeLocations(out);
    if (config_.tls) {
      out << "  server {\n"
          << "    listen 127.0.0.1:" << tlsPort_ << " ssl;\n"
          << "    listen 127.0.0.2:" << tlsPort_ << " ssl;\n"
          << "    server_name localhost;\n"
          << "    ssl_certificate " << config_.tls->certificateChainFile << ";\n"
          << "    ssl_certificate_key " << config_.tls->privateKeyFile << ";\n";
      writeLocations(out);
    }
    out << "}\n";
    if (!out) throw std::runtime_error("cannot write the nginx config");
  }

  // The root and locations of a server block, and its closing brace.
  void writeLocations(std::ofstream& out) const {
    const std::string d = directory().string();
    out << "    root " << d << "/www;\n"
        << "    location = /r/301 { return 301 /r/302; }\n"
        << "    location = /r/302 { return 302 /r/303; }\n"
        << "    location = /r/303 { return 303 /r/307; }\n"
        << "    location = /r/307 { return 307 /r/308; }\n"
        << "    location = /r/308 { return 308 /method; }\n"
        << "    location = /r/loop-a { return 302 /r/loop-b; }\n"
        << "    location = /r/loop-b { return 302 /r/loop-a; }\n"
        << "    location = /r/ftp { return 302 ftp://127.0.0.1/file; }\n"
        << "    location = /method { default_type text/plain; return 200 \"$request_method\\n\"; }\n"
        << "    location = /r/credentials { return 302 /credentials; }\n"
        << "    location = /credentials { default_type text/plain; return 200 \"$http_authorization|$http_cookie\\n\"; "
           "}\n"
        << "  }\n";
  }

  bool accepts() const {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback4(port_);
    return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }

  NginxConfig config_;
  std::uint16_t port_ = 0;
  std::uint16_t tlsPort_ = 0;
};

}  // namespace torsion_test
