// Test support: running another program (a torsion example, a Python peer) with its
// output captured and every wait bounded.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "raw_socket.hpp"

extern char** environ;

namespace torsion_test {

/// A child process whose stdout and stderr go to one pipe; killed if still running when
/// this object goes.
class Subprocess {
 public:
  /// Starts `argv[0]` (searched in PATH) with `argv`. Throws std::system_error if it
  /// cannot be started.
  explicit Subprocess(const std::vector<std::string>& argv) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) throwErrno("pipe2");
    Fd readEnd(pipeFds[0]);
    Fd writeEnd(pipeFds[1]);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      errno = error;
      throwErrno("posix_spawnp");
    }
    output_ = std::move(readEnd);
    setNonBlocking(output_.get());
  }
  ~Subprocess() {
    if (pid_ > 0 && !exitStatus_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Everything the child printed so far.
  const std::string& output() {
    readAvailable(0);
    return text_;
  }

  /// Waits up to `seconds` for a whole line containing `marker`; returns that line.
  std::optional<std::string> waitForLine(const std::string& marker, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      for (std::size_t start = 0, end; (end = text_.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = text_.substr(start, end - start);
        if (line.find(marker) != std::string::npos) return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readAvailable(static_cast<int>(left.count()))) return std::nullopt;
    }
  }

  /// Waits up to `seconds` for the child to exit; its wait status, or nullopt on timeout.
  std::optional<int> waitForExit(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!exitStatus_) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exitStatus_ = status;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      readAvailable(10);  // keep the pipe drained so the child never blocks on output
    }
    readAvailable(0);
    return exitStatus_;
  }

  void signal(int number) { ::kill(pid_, number); }

 private:
  // Reads what is available, waiting up to timeoutMs for something; false at EOF.
  bool readAvailable(int timeoutMs) {
    pollfd entry{output_.get(), POLLIN, 0};
    if (::poll(&entry, 1, timeoutMs) <= 0) return true;
    char buffer[4096];
    for (;;) {  // a pipe: read(), not recv()
      const ssize_t got = ::read(output_.get(), buffer, sizeof buffer);
      if (got > 0) {
        text_.append(buffer, static_cast<std::size_t>(got));
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  pid_t pid_ = -1;
  Fd output_;
  std::string text_;
  std::optional<int> exitStatus_;
};

/// "exited with 3", "killed by signal 9": a wait status in words, for failure messages.
inline std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace torsion_test
