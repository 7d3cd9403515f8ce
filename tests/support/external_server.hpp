// Test support: what every external server the tests run (nginx, tinyproxy) shares: a
// temporary directory for its config and logs, a start on a free port that is retried
// when another process takes the port in between, a wait until it accepts connections
// (bounded at 10 s), and a stop that escalates to SIGKILL.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "raw_socket.hpp"
#include "subprocess.hpp"

namespace torsion_test {

/// The base of a running external server: a subclass chooses its ports and writes its
/// config (configure), names its command line and says when it is ready; its constructor
/// calls start(). The directory is removed and the process stopped when the object goes.
class ExternalServer {
 public:
  virtual ~ExternalServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ExternalServer(const ExternalServer&) = delete;
  ExternalServer& operator=(const ExternalServer&) = delete;

  /// The temporary directory (config, logs, and the test's own files).
  std::filesystem::path directory() const { return dir_; }

  /// The process id of the server (-1 once stopped).
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  /// Stops the server: the stop signal given to the constructor, SIGKILL after 3 s.
  void stop() {
    if (!process_) return;
    process_->signal(stopSignal_);
    if (!process_->waitForExit(3.0)) {
      process_->signal(SIGKILL);
      process_->waitForExit(3.0);
    }
    process_.reset();
  }

 protected:
  /// Makes the temporary directory "torsion-`name`-XXXXXX"; `stopSignal` is what stop()
  /// sends first (SIGQUIT lets nginx finish what it is sending).
  ExternalServer(std::string name, int stopSignal) : name_(std::move(name)), stopSignal_(stopSignal) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("torsion-" + name_ + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throwErrno("mkdtemp");
    dir_ = pattern;
  }

  /// Starts the server; call it at the end of the subclass's constructor. The servers
  /// cannot listen on port 0, so each attempt takes ports the system picks (freePort),
  /// writes the config and starts; another process may take a port in between, so an
  /// attempt whose server exits is retried.
  /// @throws std::runtime_error with the last attempt's reason (and the server's log).
  void start() {
    std::string lastError;
    for (int attempt = 0; attempt < 8; ++attempt) {
      configure();
      if (tryStart(lastError)) return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw std::runtime_error(name_ + " did not start: " + lastError);
  }

  /// Chooses the ports and writes the config for one attempt (and removes what an
  /// earlier attempt left that ready() or log() would read).
  virtual void configure() = 0;
  /// The command line.
  virtual std::vector<std::string> command() const = 0;
  /// True once the server accepts connections on its own ports.
  virtual bool ready() const = 0;
  /// The server's log, for failure messages.
  virtual std::string log() const = 0;

  /// The running process (null before start() and after stop()).
  const Subprocess* process() const noexcept { return process_.get(); }

  /// A port on 127.0.0.1 that was free a moment ago.
  static std::uint16_t freePort() {
    std::uint16_t port = 0;
    Fd probe = listenLoopback(port);
    return port;
  }

  /// The whole text of a file ("" if it does not exist yet).
  static std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  // One attempt: true once ready, false (with the reason) if the server exited or never
  // got ready.
  bool tryStart(std::string& error) {
    process_ = std::make_unique<Subprocess>(command());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto status = process_->waitForExit(0.01)) {
        error = describeStatus(*status) + ": " + process_->output() + log();
        process_.reset();
        return false;
      }
      if (ready()) return true;
    }
    error = "not accepting after 10 s: " + log();
    stop();
    return false;
  }

  std::string name_;
  int stopSignal_;
  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace torsion_test
