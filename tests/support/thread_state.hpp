// Test support: what another thread of this process is doing, for tests that must know
// a loop has fallen asleep before they wake it (instead of sleeping and hoping it has).
// Linux: reads /proc/self/task/<tid>/stat.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace torsion_test {

/// The kernel's id of the calling thread, for threadIsSleeping.
inline pid_t currentThreadId() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

/// True if thread `tid` of this process is blocked in the kernel (state S: in epoll_wait,
/// poll, select, a futex, ...), false if it runs, is runnable, or is gone.
inline bool threadIsSleeping(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "tid (comm) S ...": the state follows the last ')', as comm may hold spaces or ')'.
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S';
}

/// Polls `condition` from a thread that is not the reactor's until it holds or `seconds`
/// pass; returns whether it held. The pause between polls only spares the CPU.
template <class Condition>
bool waitFromThread(Condition&& condition, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace torsion_test
