// Test support: a child process with its stdout on a pipe, read with deadlines, and
// killed if it outlives its test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace torsion_test {

/// A running program whose standard output the test reads. Its stderr goes to the
/// test's stderr, so that a failing peer explains itself in the test log. The
/// destructor kills it (SIGKILL) if it is still running: no test leaves a process
/// behind, whatever fails.
class ChildProcess {
 public:
  /// Starts `argv[0]` (a path) with the given arguments; with `mergeStderr`, its
  /// standard error goes to the same pipe as its output (for checking error messages).
  /// @throws std::system_error if it cannot be started.
  explicit ChildProcess(const std::vector<std::string>& argv, bool mergeStderr = false) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (mergeStderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (error != 0) {
      ::close(fds[0]);
      throw std::system_error(error, std::generic_category(), "posix_spawn " + argv[0]);
    }
    out_ = fds[0];
  }

  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The next line of output (without the newline), or nothing if none came within
  /// `timeoutSeconds` or the output ended.
  std::optional<std::string> readLine(double timeoutSeconds) {
    const auto deadline = clock::now() + toDuration(timeoutSeconds);
    for (;;) {
      if (auto end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      if (!readSome(deadline)) return std::nullopt;
    }
  }

  /// Everything printed until the output ends or `timeoutSeconds` pass.
  std::string readAll(double timeoutSeconds) {
    const auto deadline = clock::now() + toDuration(timeoutSeconds);
    while (readSome(deadline)) {
    }
    return std::exchange(buffer_, std::string());
  }

  /// The process id.
  pid_t pid() const noexcept { return pid_; }

  /// Sends SIGTERM.
  void terminate() {
    if (pid_ > 0 && !exited_) ::kill(pid_, SIGTERM);
  }

  /// The exit status (or 128 + signal number), or nothing if the process has not ended
  /// within `timeoutSeconds` (it is then killed by the destructor).
  std::optional<int> wait(double timeoutSeconds) {
    const auto deadline = clock::now() + toDuration(timeoutSeconds);
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  using clock = std::chrono::steady_clock;

  static clock::duration toDuration(double seconds) {
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  }

  // Reads what is available, waiting until `deadline`; false at the deadline or the end.
  bool readSome(clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd entry{out_, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[4096];
    const ssize_t got = ::read(out_, chunk, sizeof chunk);
    if (got <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::string buffer_;
};

}  // namespace torsion_test
