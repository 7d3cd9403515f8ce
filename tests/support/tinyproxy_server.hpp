// Test support: a real HTTP proxy (Debian's tinyproxy) on 127.0.0.1, started as a child
// process in the foreground with a config the test writes into a temporary directory,
// for testing CONNECT tunnels against a proxy torsion did not write.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "raw_socket.hpp"
#include "subprocess.hpp"

namespace torsion_test {

/// What the fixture's tinyproxy allows.
struct TinyproxyConfig {
  /// The only ports CONNECT may reach (`ConnectPort`); a CONNECT to another is refused
  /// with 403. Empty: every port (tinyproxy's default).
  std::vector<std::uint16_t> connectPorts;
  /// `BasicAuth user password`: without these credentials every request gets 407.
  /// Empty: no authentication.
  std::string user;
  std::string password;  ///< the BasicAuth password
};

/// A running tinyproxy in a temporary directory (config and log inside it), listening on
/// 127.0.0.1 on a free port; stopped and its directory removed when this object goes.
class TinyproxyServer {
 public:
  /// Where Debian installs tinyproxy.
  static constexpr const char* binary = "/usr/bin/tinyproxy";

  /// Why tinyproxy cannot run here, or nullopt when it can. scripts/packages.txt installs
  /// it, so the tests fail (they do not skip) without it.
  static std::optional<std::string> unavailableReason() {
    if (::access(binary, X_OK) != 0) return std::string(binary) + " is not installed (apt-get install tinyproxy)";
    return std::nullopt;
  }

  /// Starts tinyproxy and waits until it accepts connections.
  /// @throws std::runtime_error when it is missing or does not start (with its log).
  explicit TinyproxyServer(TinyproxyConfig config = {}) : config_(std::move(config)) {
    if (auto reason = unavailableReason()) throw std::runtime_error(*reason);
    std::string pattern = (std::filesystem::temp_directory_path() / "torsion-tinyproxy-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throwErrno("mkdtemp");
    dir_ = pattern;
    // tinyproxy cannot listen on port 0: take a port the system picks, free it and try
    // it; another process may take it in between, so a failure to bind is retried.
    std::string lastError;
    for (int attempt = 0; attempt < 8; ++attempt) {
      std::uint16_t probePort = 0;
      { Fd probe = listenLoopback(probePort); }
      port_ = probePort;
      writeConfig();
      if (tryStart(lastError)) return;
    }
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("tinyproxy did not start: " + lastError);
  }

  ~TinyproxyServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TinyproxyServer(const TinyproxyServer&) = delete;
  TinyproxyServer& operator=(const TinyproxyServer&) = delete;

  /// The port tinyproxy listens on (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }

  /// tinyproxy's log so far (one line per connection and per request, among others).
  std::string log() const { return readText(dir_ / "tinyproxy.log"); }

  /// How many times the log says a request `CONNECT target` arrived ("127.0.0.1:443").
  std::size_t connectRequests(const std::string& target) const {
    const std::string text = log();
    const std::string needle = "CONNECT " + target + " HTTP/1.1";
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
  }

  /// Stops tinyproxy (SIGTERM; SIGKILL after 3 s).
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    if (!process_->waitForExit(3.0)) {
      process_->signal(SIGKILL);
      process_->waitForExit(3.0);
    }
    process_.reset();
  }

 private:
  static std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void writeConfig() const {
    std::ofstream out(dir_ / "tinyproxy.conf", std::ios::trunc);
    out << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 30\nMaxClients 32\n"
        << "LogFile \"" << (dir_ / "tinyproxy.log").string() << "\"\nLogLevel Info\n";
    for (auto port : config_.connectPorts) out << "ConnectPort " << port << "\n";
    if (!config_.user.empty()) out << "BasicAuth " << config_.user << " " << config_.password << "\n";
    if (!out) throw std::runtime_error("cannot write the tinyproxy config");
  }

  // Starts tinyproxy on port_; true once it accepts, false (with the reason) if it exited.
  bool tryStart(std::string& error) {
    std::filesystem::remove(dir_ / "tinyproxy.log");
    process_ =
        std::make_unique<Subprocess>(std::vector<std::string>{binary, "-d", "-c", (dir_ / "tinyproxy.conf").string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto status = process_->waitForExit(0.01)) {
        error = describeStatus(*status) + ": " + process_->output() + log();
        process_.reset();
        return false;
      }
      // Written once its socket is bound and listening, so a connection is its own.
      if (log().find("Accepting connections") != std::string::npos) return true;
    }
    error = "not accepting after 10 s: " + log();
    stop();
    return false;
  }

  TinyproxyConfig config_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace torsion_test
