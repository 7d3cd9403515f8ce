// Internal. ThreadPool: a bounded pool for callInThread, started on first use.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace torsion::detail {

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t maxThreads) : maxThreads_(maxThreads) {}
  /// Runs what is already queued, then joins every thread.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `job`; starts a thread if none is idle and fewer than the maximum run.
  void submit(std::function<void()> job);
  void setMaxThreads(std::size_t maxThreads);

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wakeUp_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  std::size_t maxThreads_;
  bool stopping_ = false;
};

}  // namespace torsion::detail
