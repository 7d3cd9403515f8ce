#include "thread_pool.hpp"

#include "log_unhandled.hpp"

namespace torsion::detail {

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeUp_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void ThreadPool::submit(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ == 0 && threads_.size() < maxThreads_) {
    threads_.emplace_back([this] { work(); });
  }
  lock.unlock();
  wakeUp_.notify_one();
}

void ThreadPool::setMaxThreads(std::size_t maxThreads) {
  std::lock_guard lock(mutex_);
  maxThreads_ = maxThreads;
}

void ThreadPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    wakeUp_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (...) {
      logUnhandled("callInThread", std::current_exception());
    }
    job = nullptr;  // destroy captures outside the lock
    lock.lock();
  }
}

}  // namespace torsion::detail
