// backend_tour: a server program run as a child process, with what /proc says about it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tour {

/// Starts `argv` (which must print "listening on HOST:PORT" first), waits for that line
/// and stops the child (SIGTERM, then SIGKILL) when destroyed.
class ServerProcess {
 public:
  /// @throws std::runtime_error if it cannot start or does not announce a port in time.
  explicit ServerProcess(const std::vector<std::string>& argv);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// Resident memory in KiB (VmRSS), or 0 if unknown.
  long rssKiB() const;
  /// Threads of the process, or 0 if unknown.
  long threads() const;
  /// Open descriptors of the process.
  long descriptors() const;

 private:
  long statusField(const char* name) const;

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace tour
