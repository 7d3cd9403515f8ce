#include "thread_calls.hpp"

#include <fcntl.h>
#include <unistd.h>
#if defined(TORSION_HAVE_EVENTFD)
#include <sys/eventfd.h>
#endif

#include <cerrno>
#include <cstdint>

#include "system_error.hpp"

namespace torsion::detail {

ThreadCalls::ThreadCalls() {
#if defined(TORSION_HAVE_EVENTFD)
  readFd_ = writeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (readFd_ < 0) throwSystemError("eventfd");
#else
  int fds[2];
  if (::pipe(fds) < 0) throwSystemError("pipe");
  for (int fd : fds) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  readFd_ = fds[0];
  writeFd_ = fds[1];
#endif
}

ThreadCalls::~ThreadCalls() {
  ::close(readFd_);
  if (writeFd_ != readFd_) ::close(writeFd_);
}

void ThreadCalls::push(std::function<void()> fn) {
  bool wasEmpty;
  {
    std::lock_guard lock(mutex_);
    wasEmpty = queue_.empty();
    queue_.push_back(std::move(fn));
    pending_.store(true, std::memory_order_release);
  }
  if (wasEmpty) wake();
}

void ThreadCalls::runQueued(const std::function<void(std::exception_ptr)>& onError) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return;
    running_.swap(queue_);
    pending_.store(false, std::memory_order_release);
  }
  for (auto& fn : running_) {
    try {
      fn();
    } catch (...) {
      onError(std::current_exception());
    }
  }
  running_.clear();  // keeps its capacity: no allocation per batch in steady state
}

void ThreadCalls::wake() const noexcept {
#if defined(TORSION_HAVE_EVENTFD)
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(writeFd_, &one, sizeof one);
#else
  char byte = 0;
  [[maybe_unused]] ssize_t written = ::write(writeFd_, &byte, 1);  // a full pipe already wakes
#endif
}

void ThreadCalls::doRead() {
  char buffer[256];
  while (::read(readFd_, buffer, sizeof buffer) > 0) {
  }
}

}  // namespace torsion::detail
