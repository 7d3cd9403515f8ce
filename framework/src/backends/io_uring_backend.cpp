// io_uring(7) as a readiness backend: one-shot IORING_OP_POLL_ADD per watched descriptor,
// re-armed after each report. Every add, change and re-arm is only written into the
// submission queue; `wait` submits them and waits in one io_uring_enter, so a loop pass
// costs one system call however many descriptors changed.
//
// Why one-shot and not multishot polls: a multishot poll is edge-triggered (the kernel
// posts a completion per wake-up and never looks again at data left unread, and it
// refuses IORING_POLL_ADD_LEVEL). torsion's backends are level-triggered: a transport
// reads at most 64 KiB per pass, for fairness, and relies on being told again of the
// rest. A one-shot poll is armed by asking the file whether it is ready now, so arming
// it again after each report is exactly level-triggered, and costs one SQE, no syscall.
#include <liburing.h>
#include <poll.h>

#include <torsion/log.hpp>

#include <cerrno>
#include <cstring>

#include "backend.hpp"

namespace torsion::detail {

namespace {

constexpr unsigned kRingEntries = 1024;
// The user data of removals, whose failures (the poll had just completed) are ignored.
constexpr std::uint64_t kRemoveTag = ~std::uint64_t{0};

unsigned toPollMask(std::uint8_t interest) {
  unsigned mask = 0;
  if (interest & kReadable) mask |= POLLIN | POLLRDHUP;
  if (interest & kWritable) mask |= POLLOUT;
  return mask;
}

std::uint8_t toReadyEvents(int result) {
  if (result < 0) return kReadable | kWritable;  // the poll itself failed: let the handlers find out
  const auto mask = static_cast<unsigned>(result);
  std::uint8_t events = 0;
  if (mask & (POLLIN | POLLPRI | POLLRDHUP)) events |= kReadable;
  if (mask & POLLOUT) events |= kWritable;
  if (mask & (POLLERR | POLLHUP | POLLNVAL)) events |= kReadable | kWritable;
  return events;
}

class IoUringBackend final : public Backend {
 public:
  IoUringBackend() { rearm_.reserve(256); }
  ~IoUringBackend() override {
    if (ringOpen_) ::io_uring_queue_exit(&ring_);
  }
  IoUringBackend(const IoUringBackend&) = delete;
  IoUringBackend& operator=(const IoUringBackend&) = delete;

  /// Sets up the ring: 0, or the errno that io_uring_setup failed with.
  int open() {
    const int result = ::io_uring_queue_init(kRingEntries, &ring_, 0);
    if (result < 0) return -result;
    ringOpen_ = true;
    // Removals skip their completion on success (IOSQE_CQE_SKIP_SUCCESS, Linux 5.17).
    return (ring_.features & IORING_FEAT_CQE_SKIP) != 0 ? 0 : ENOTSUP;
  }

  const char* name() const noexcept override { return "io_uring"; }

  void add(int fd, std::uint8_t interest) override {
    Watch& watch = watchOf(fd);
    watch.interest = interest;
    arm(fd, watch);
  }

  void modify(int fd, std::uint8_t, std::uint8_t interest) override {
    Watch& watch = watchOf(fd);
    watch.interest = interest;
    if (watch.state == WatchState::fired) return;  // re-armed with the new interest in the next wait
    disarm(watch);
    arm(fd, watch);
  }

  void remove(int fd, std::uint8_t) override {
    Watch& watch = watchOf(fd);
    const bool armed = watch.state == WatchState::armed;
    if (armed) disarm(watch);
    ++watch.generation;  // a completion still in flight for it is now stale
    watch.state = WatchState::idle;
    watch.interest = 0;
    // An armed poll holds a reference to the file: submit the removal before the caller
    // closes the descriptor, or the socket would outlive its close (a listening port
    // would keep its address, a peer would not see the end of the stream).
    if (armed) ::io_uring_submit(&ring_);
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    // Level-triggered: whatever was reported last time is asked again now.
    for (int fd : rearm_) {
      Watch& watch = watches_[static_cast<std::size_t>(fd)];
      if (watch.state == WatchState::fired) arm(fd, watch);
    }
    rearm_.clear();
    enter(timeoutMs);
    collect(out);
  }

 private:
  // What the kernel holds for one descriptor: nothing, an armed poll (queued or
  // submitted), or a poll that completed and is re-armed by the next wait.
  enum class WatchState : std::uint8_t { idle, armed, fired };

  struct Watch {
    std::uint32_t generation = 0;  // in the poll's user data: older completions are stale
    std::uint8_t interest = 0;
    WatchState state = WatchState::idle;
  };

  static std::uint64_t userData(int fd, const Watch& watch) {
    return (std::uint64_t{watch.generation} << 32) | static_cast<std::uint32_t>(fd);
  }

  Watch& watchOf(int fd) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= watches_.size()) watches_.resize(index + 1 + index / 2);
    return watches_[index];
  }

  io_uring_sqe& nextSqe() {
    io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {  // the queue is full: hand it to the kernel and take a slot
      const int submitted = ::io_uring_submit(&ring_);
      if (submitted < 0 && submitted != -EINTR && submitted != -EAGAIN && submitted != -EBUSY) {
        errno = -submitted;
        throwSystemError("io_uring_submit");
      }
      sqe = ::io_uring_get_sqe(&ring_);
    }
    return *sqe;
  }

  void arm(int fd, Watch& watch) {
    io_uring_sqe& sqe = nextSqe();
    ::io_uring_prep_poll_add(&sqe, fd, toPollMask(watch.interest));
    ::io_uring_sqe_set_data64(&sqe, userData(fd, watch));
    watch.state = WatchState::armed;
  }

  // Cancels the armed poll (by its user data, so it works on a closed descriptor too)
  // and makes any completion it still produces stale.
  void disarm(Watch& watch) {
    if (watch.state == WatchState::armed) {
      io_uring_sqe& sqe = nextSqe();
      const int fd = static_cast<int>(&watch - watches_.data());
      ::io_uring_prep_poll_remove(&sqe, userData(fd, watch));
      ::io_uring_sqe_set_data64(&sqe, kRemoveTag);
      sqe.flags |= IOSQE_CQE_SKIP_SUCCESS;
    }
    ++watch.generation;
  }

  void enter(int timeoutMs) {
    int result = 0;
    if (timeoutMs == 0) {
      // Nothing to wait for: a syscall only if there is something to submit. Completions
      // are posted by the kernel's task work, which runs without our asking.
      if (::io_uring_sq_ready(&ring_) != 0) result = ::io_uring_submit(&ring_);
    } else {
      __kernel_timespec timeout{};
      timeout.tv_sec = timeoutMs / 1000;
      timeout.tv_nsec = static_cast<long long>(timeoutMs % 1000) * 1000000;
      io_uring_cqe* first = nullptr;
      result = ::io_uring_submit_and_wait_timeout(&ring_, &first, 1, timeoutMs < 0 ? nullptr : &timeout, nullptr);
    }
    if (result < 0 && result != -ETIME && result != -EINTR && result != -EAGAIN && result != -EBUSY) {
      errno = -result;
      throwSystemError("io_uring_submit_and_wait_timeout");
    }
  }

  void collect(std::vector<ReadyEvent>& out) {
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t data = ::io_uring_cqe_get_data64(cqe);
      if (data == kRemoveTag) continue;
      const auto fd = static_cast<int>(static_cast<std::uint32_t>(data));
      const auto index = static_cast<std::size_t>(fd);
      if (index >= watches_.size()) continue;
      Watch& watch = watches_[index];
      if (watch.state != WatchState::armed || userData(fd, watch) != data) continue;  // stale
      watch.state = WatchState::fired;
      rearm_.push_back(fd);
      out.push_back({fd, toReadyEvents(cqe->res)});
    }
    ::io_uring_cq_advance(&ring_, seen);
  }

  io_uring ring_{};
  bool ringOpen_ = false;
  std::vector<Watch> watches_;  // indexed by descriptor
  std::vector<int> rearm_;      // reported by the last wait: armed again by the next
};

}  // namespace

bool ioUringUsable() {
  // Probed once per process: whether io_uring works does not change while it runs.
  static const bool usable = IoUringBackend().open() == 0;
  return usable;
}

std::unique_ptr<Backend> makeIoUringBackend() {
  auto backend = std::make_unique<IoUringBackend>();
  const int error = backend->open();
  if (error == 0) return backend;
  // Disabled by kernel.io_uring_disabled or a seccomp filter (EPERM), not in this kernel
  // (ENOSYS), too old for what the backend uses (ENOTSUP), out of memory...
  log::warn("io_uring is not usable here ({}); this reactor runs on epoll instead", std::strerror(error));
  return makeEpollBackend();
}

}  // namespace torsion::detail
