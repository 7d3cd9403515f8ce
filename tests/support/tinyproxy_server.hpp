// Test support: a real HTTP proxy (Debian's tinyproxy) on 127.0.0.1, started as a child
// process in the foreground with a config the test writes into a temporary directory,
// for testing CONNECT tunnels against a proxy torsion did not write.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "external_server.hpp"

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
class TinyproxyServer : public ExternalServer {
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
  explicit TinyproxyServer(TinyproxyConfig config = {})
      : ExternalServer("tinyproxy", SIGTERM), config_(std::move(config)) {
    if (auto reason = unavailableReason()) throw std::runtime_error(*reason);
    start();
  }

  /// The port tinyproxy listens on (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }

  /// tinyproxy's log so far (one line per connection and per request, among others).
  std::string log() const override { return readText(directory() / "tinyproxy.log"); }

  /// How many times the log says a request `CONNECT target` arrived ("127.0.0.1:443").
  std::size_t connectRequests(const std::string& target) const {
    const std::string text = log();
    const std::string needle = "CONNECT " + target + " HTTP/1.1";
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
  }

 private:
  void configure() override {
    port_ = freePort();
    std::filesystem::remove(directory() / "tinyproxy.log");
    std::ofstream out(directory() / "tinyproxy.conf", std::ios::trunc);
    out << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 30\nMaxClients 32\n"
        << "LogFile \"" << (directory() / "tinyproxy.log").string() << "\"\nLogLevel Info\n";
    for (auto port : config_.connectPorts) out << "ConnectPort " << port << "\n";
    if (!config_.user.empty()) out << "BasicAuth " << config_.user << " " << config_.password << "\n";
    if (!out) throw std::runtime_error("cannot write the tinyproxy config");
  }

  std::vector<std::string> command() const override {
    return {binary, "-d", "-c", (directory() / "tinyproxy.conf").string()};
  }

  // Written once its socket is bound and listening, so a connection is its own.
  bool ready() const override { return log().find("Accepting connections") != std::string::npos; }

  TinyproxyConfig config_;
  std::uint16_t port_ = 0;
};

}  // namespace torsion_test
