// Internal. ThreadCalls: the queue behind callFromThread, and the waker that interrupts
// a sleeping loop (an eventfd on Linux, a self-pipe elsewhere).
#pragma once

#include <torsion/selectable.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

namespace torsion::detail {

class ThreadCalls final : public Selectable {
 public:
  ThreadCalls();
  ~ThreadCalls() override;
  ThreadCalls(const ThreadCalls&) = delete;
  ThreadCalls& operator=(const ThreadCalls&) = delete;

  /// Thread-safe. Wakes the loop only when the queue goes from empty to not empty, so a
  /// burst of calls costs one write.
  void push(std::function<void()> fn);

  /// Runs the calls queued so far, in order; calls queued meanwhile wait for the next
  /// pass. Exceptions are handed to `onError`.
  void runQueued(const std::function<void(std::exception_ptr)>& onError);

  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }

  /// Async-signal-safe: makes the loop's wait return.
  void wake() const noexcept;

  int fileno() const override { return readFd_; }
  void doRead() override;  // drains the wake-ups

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;
  std::vector<std::function<void()>> running_;
  std::atomic<bool> pending_{false};
  int readFd_ = -1;
  int writeFd_ = -1;
};

}  // namespace torsion::detail
