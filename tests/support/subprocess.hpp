// Test support: running another program (a torsion example, a Python peer) with its
// output captured and every wait bounded. The one subprocess helper of the tests.
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
#include <string_view>
#include <vector>

#include "raw_socket.hpp"

extern char** environ;

namespace torsion_test {

/// A child process whose stdout the test reads through a pipe; killed (SIGKILL) if still
/// running when this object goes, so no test leaves a process behind whatever fails.
class Subprocess {
 public:
  /// Where the child's stderr goes.
  enum class Stderr {
    withOutput,  ///< into the same pipe as stdout (output() has both)
    toTestLog,   ///< to the test's own stderr, so a failing peer explains itself there
  };

  /// Starts `argv[0]` (a path, or a name searched in PATH) with `argv`, in this
  /// process's environment plus `environment` ("NAME=value" entries, which replace
  /// inherited variables of the same name).
  /// @throws std::system_error if it cannot be started.
  explicit Subprocess(const std::vector<std::string>& argv, Stderr stderrTo = Stderr::withOutput,
                      const std::vector<std::string>& environment = {}) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) throwErrno("pipe2");
    Fd readEnd(pipeFds[0]);
    Fd writeEnd(pipeFds[1]);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDOUT_FILENO);
    if (stderrTo == Stderr::withOutput) ::posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> variables = environment;
    for (char** entry = environ; *entry; ++entry) {
      const std::string_view inherited(*entry);
      const auto name = inherited.substr(0, inherited.find('=') + 1);
      bool replaced = false;
      for (const auto& variable : environment) replaced = replaced || variable.starts_with(name);
      if (!replaced) variables.emplace_back(inherited);
    }
    std::vector<char*> envp;
    for (auto& variable : variables) envp.push_back(variable.data());
    envp.push_back(nullptr);
    const int error = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
      errno = error;
      throwErrno(("posix_spawnp " + argv[0]).c_str());
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

  /// Waits up to `seconds` for a whole line containing `marker` (anywhere in the output
  /// so far); returns that line.
  std::optional<std::string> waitForLine(const std::string& marker, double seconds) {
    const auto deadline = deadlineIn(seconds);
    for (;;) {
      for (std::size_t start = 0, end; (end = text_.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = text_.substr(start, end - start);
        if (line.find(marker) != std::string::npos) return line;
      }
      if (!readUntil(deadline)) return std::nullopt;
    }
  }

  /// The next line not returned yet (without its newline), or nothing if none came
  /// within `seconds` or the output ended.
  std::optional<std::string> readLine(double seconds) {
    const auto deadline = deadlineIn(seconds);
    for (;;) {
      if (auto end = text_.find('\n', consumed_); end != std::string::npos) {
        std::string line = text_.substr(consumed_, end - consumed_);
        consumed_ = end + 1;
        return line;
      }
      if (!readUntil(deadline)) return std::nullopt;
    }
  }

  /// Everything not returned yet, once the output ends or `seconds` pass.
  std::string readAll(double seconds) {
    const auto deadline = deadlineIn(seconds);
    while (readUntil(deadline)) {
    }
    std::string rest = text_.substr(consumed_);
    consumed_ = text_.size();
    return rest;
  }

  /// Waits up to `seconds` for the child to exit; its wait status, or nullopt on timeout.
  std::optional<int> waitForExit(double seconds) {
    const auto deadline = deadlineIn(seconds);
    while (!exitStatus_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exitStatus_ = status;
        break;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      readAvailable(10);  // keep the pipe drained so the child never blocks on output
    }
    readAvailable(0);
    return exitStatus_;
  }

  /// waitForExit as a shell reports it: the exit code, or 128 + the signal's number.
  std::optional<int> wait(double seconds) {
    const auto status = waitForExit(seconds);
    if (!status) return std::nullopt;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }

  /// Sends `number` to the child.
  void signal(int number) {
    if (!exitStatus_) ::kill(pid_, number);
  }
  /// Sends SIGTERM.
  void terminate() { signal(SIGTERM); }

 private:
  using Clock = std::chrono::steady_clock;

  static Clock::time_point deadlineIn(double seconds) {
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // Waits until something arrives or `deadline`; false at the deadline or the end.
  bool readUntil(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    const std::size_t before = text_.size();
    const bool open = readAvailable(static_cast<int>(left));
    return open || text_.size() > before;
  }

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
  std::size_t consumed_ = 0;  // what readLine / readAll returned already
  std::optional<int> exitStatus_;
};

/// "exited with 3", "killed by signal 9": a wait status in words, for failure messages.
inline std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace torsion_test
