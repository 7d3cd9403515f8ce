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
//
// Connected stream sockets take the completion path instead (Backend::armReceive): one
// multishot IORING_OP_RECV per socket, which the kernel completes into buffers of a
// provided buffer ring each time data arrives, with no recv system call. Buffers go back
// to the ring as soon as the reactor has dispatched them (recycle); a completion that
// arrives for a dropped receive returns its buffer here, unseen by anyone.
//
// Their sends that fit one send buffer go the same way (Backend::submitSend): copied into
// a buffer of the backend's own, sent by an IORING_OP_SEND that the pass's one
// io_uring_enter submits, so a message costs the server no system call of its own. The
// buffer stays the backend's until the send's completion, whatever becomes of the
// connection meanwhile.
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <torsion/log.hpp>

#include <cerrno>
#include <cstring>
#include <span>

#include "backend.hpp"

namespace torsion::detail {

namespace {

constexpr unsigned kRingEntries = 1024;
// The user data of removals, whose failures (the poll had just completed) are ignored.
constexpr std::uint64_t kRemoveTag = ~std::uint64_t{0};
// Set in the user data of receives, or of sends; both clear in that of polls.
constexpr std::uint64_t kReceiveTag = std::uint64_t{1} << 63;
constexpr std::uint64_t kSendTag = std::uint64_t{1} << 62;

// The provided buffer ring shared by all receives of one reactor. A multishot receive
// fills one buffer per completion; 16 KiB holds any small message and keeps a bulk
// transfer at a few completions per 64 KiB. A ring that runs dry ends the receives that
// found it so (ENOBUFS); the transports arm them again, by which time the reactor has
// recycled every buffer it dispatched.
constexpr unsigned kBufferCount = 256;  // a power of two, as the ring needs
constexpr unsigned kBufferSize = 16 * 1024;
constexpr std::uint16_t kBufferGroup = 0;

// The send buffers: a message that fits one goes by IORING_OP_SEND; bulk output (more
// than one buffer's worth queued) goes by sendmsg, where one call moves up to 64 chunks.
// A send holds its buffer only until the kernel has taken its bytes, at once unless the
// peer's window is full, so a few per connection in flight are plenty.
constexpr unsigned kSendBufferCount = 256;
constexpr unsigned kSendBufferSize = 16 * 1024;

// Memory for the kernel to write into: mapped, not from the heap, so that nothing else
// of the process can ever live there, even while a cancelled receive winds down.
class Mapping {
 public:
  Mapping() = default;
  ~Mapping() {
    if (address_ != nullptr) ::munmap(address_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  bool map(std::size_t size) {
    void* address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address == MAP_FAILED) return false;
    address_ = address;
    size_ = size;
    return true;
  }
  char* data() const noexcept { return static_cast<char*>(address_); }

 private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

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
    // Before the mappings go (members die after this body): the ring's exit cancels
    // whatever is still armed.
    if (ringOpen_) ::io_uring_queue_exit(&ring_);
  }
  IoUringBackend(const IoUringBackend&) = delete;
  IoUringBackend& operator=(const IoUringBackend&) = delete;

  /// Sets up the ring: 0, or the errno that io_uring_setup failed with.
  int open() {
    // Cooperative task work (Linux 5.19): the kernel does not interrupt the reactor to
    // post each completion (a multishot receive's task work would otherwise run on the
    // way out of every send system call, contending for the socket's lock with the send
    // itself); it runs all of it at the next io_uring_enter, a batch per pass. With the
    // flag, the kernel says when such work is waiting (enter looks, for a poll pass).
    int result = ::io_uring_queue_init(kRingEntries, &ring_, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (result == -EINVAL) result = ::io_uring_queue_init(kRingEntries, &ring_, 0);  // an older kernel
    if (result < 0) return -result;
    ringOpen_ = true;
    // Removals skip their completion on success (IOSQE_CQE_SKIP_SUCCESS, Linux 5.17).
    return (ring_.features & IORING_FEAT_CQE_SKIP) != 0 ? 0 : ENOTSUP;
  }

  /// Registers the provided buffer ring (Linux 5.19; multishot receive needs 6.0): false
  /// leaves the completion path
  /// off and the backend a readiness backend.
  bool openBufferRing() {
    // Multishot receive (Linux 6.0) has no feature bit of its own: IORING_FEAT_REG_REG_RING
    // (6.3, unnamed in liburing 2.3's headers) is the first bit that proves a kernel new
    // enough. An older kernel would fail every receive with EINVAL.
    constexpr unsigned kFeatureRegRegRing = 1U << 13;
    if ((ring_.features & kFeatureRegRegRing) == 0) return false;
    if (!ringMemory_.map(sizeof(io_uring_buf) * kBufferCount) || !buffers_.map(std::size_t{kBufferSize} * kBufferCount))
      return false;
    bufferRing_ = reinterpret_cast<io_uring_buf_ring*>(ringMemory_.data());
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(bufferRing_);
    registration.ring_entries = kBufferCount;
    registration.bgid = kBufferGroup;
    if (::io_uring_register_buf_ring(&ring_, &registration, 0) != 0) return false;
    ::io_uring_buf_ring_init(bufferRing_);
    for (unsigned id = 0; id < kBufferCount; ++id) {
      ::io_uring_buf_ring_add(bufferRing_, bufferAt(static_cast<std::uint16_t>(id)), kBufferSize,
                              static_cast<unsigned short>(id), ::io_uring_buf_ring_mask(kBufferCount),
                              static_cast<int>(id));
    }
    ::io_uring_buf_ring_advance(bufferRing_, static_cast<int>(kBufferCount));
    receiving_ = true;
    // Sends need no more of the kernel than multishot receive: without their memory the
    // backend still receives by completion and the transports send by themselves.
    if (sendMemory_.map(std::size_t{kSendBufferSize} * kSendBufferCount)) {
      freeSendBuffers_.reserve(kSendBufferCount);
      for (unsigned id = kSendBufferCount; id-- > 0;) freeSendBuffers_.push_back(static_cast<std::uint16_t>(id));
    }
    return true;
  }

  const char* name() const noexcept override { return "io_uring"; }

  bool completesReceives() const noexcept override { return receiving_; }

  bool completesSends() const noexcept override { return receiving_ && sendMemory_.data() != nullptr; }

  std::span<char> sendBuffer() override {
    if (freeSendBuffers_.empty()) return {};
    return {sendBufferAt(freeSendBuffers_.back()), kSendBufferSize};
  }

  void submitSend(int fd, std::size_t length) override {
    Send& send = sendOf(fd);
    send.buffer = freeSendBuffers_.back();
    freeSendBuffers_.pop_back();
    send.length = static_cast<std::uint32_t>(length);
    send.done = 0;
    send.state = SendState::inFlight;
    prepareSend(fd, send);
  }

  void dropSend(int fd) override {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= sends_.size() || sends_[index].state != SendState::inFlight) return;
    Send& send = sends_[index];
    // Its completion finds the send idle and only frees the buffer (collectSend).
    send.state = SendState::idle;
    submitCancel(sendData(fd, send.buffer));
    // As for receives: the send holds a reference to the file until it is cancelled.
    ::io_uring_submit(&ring_);
  }

  void armReceive(int fd) override {
    Receive& receive = receiveOf(fd);
    if (receive.state == ReceiveState::armed) dropReceive(fd);  // never two receives on one socket
    io_uring_sqe& sqe = nextSqe();
    ::io_uring_prep_recv_multishot(&sqe, fd, nullptr, 0, 0);
    sqe.flags |= IOSQE_BUFFER_SELECT;
    sqe.buf_group = kBufferGroup;
    ::io_uring_sqe_set_data64(&sqe, receiveData(fd, receive));
    receive.state = ReceiveState::armed;
  }

  void cancelReceive(int fd) override {
    Receive& receive = receiveOf(fd);
    if (receive.state != ReceiveState::armed) return;
    // The generation stays: what the kernel still completes is reported, so that no
    // byte it took from the socket is lost.
    submitCancel(receiveData(fd, receive));
  }

  void dropReceive(int fd) override {
    Receive& receive = receiveOf(fd);
    if (receive.state != ReceiveState::armed) return;
    submitCancel(receiveData(fd, receive));
    ++receive.generation;  // whatever it still completes is stale: collect recycles it
    receive.state = ReceiveState::idle;
    // The receive holds a reference to the file: as for polls (remove), the cancel must
    // reach the kernel before the caller closes the descriptor.
    ::io_uring_submit(&ring_);
  }

  const char* receivedData(std::uint16_t buffer) const noexcept override { return bufferAt(buffer); }

  void recycle(std::uint16_t buffer) override {
    ::io_uring_buf_ring_add(bufferRing_, bufferAt(buffer), kBufferSize, buffer, ::io_uring_buf_ring_mask(kBufferCount),
                            0);
    ::io_uring_buf_ring_advance(bufferRing_, 1);
  }

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

  // Whether a socket's multishot receive is in the kernel (armed, perhaps cancelled and
  // winding down) or not.
  enum class ReceiveState : std::uint8_t { idle, armed };

  struct Receive {
    std::uint32_t generation = 0;  // as Watch::generation
    ReceiveState state = ReceiveState::idle;
  };

  // Whether a socket has a send in the kernel that the reactor waits for.
  enum class SendState : std::uint8_t { idle, inFlight };

  struct Send {
    std::uint32_t length = 0;  // the bytes in the buffer
    std::uint32_t done = 0;    // of which the kernel has sent these
    std::uint16_t buffer = 0;
    SendState state = SendState::idle;
  };

  static std::uint64_t userData(int fd, const Watch& watch) {
    return (std::uint64_t{watch.generation} << 32) | static_cast<std::uint32_t>(fd);
  }

  static std::uint64_t receiveData(int fd, const Receive& receive) {
    return kReceiveTag | (std::uint64_t{receive.generation & 0x3fffffffU} << 32) | static_cast<std::uint32_t>(fd);
  }

  // A send's buffer, not a generation, tells it from an older send on a reused number:
  // a buffer comes back to the free list only with its send's completion.
  static std::uint64_t sendData(int fd, std::uint16_t buffer) {
    return kSendTag | (std::uint64_t{buffer} << 32) | static_cast<std::uint32_t>(fd);
  }

  char* sendBufferAt(std::uint16_t buffer) const noexcept {
    return sendMemory_.data() + std::size_t{buffer} * kSendBufferSize;
  }

  Send& sendOf(int fd) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= sends_.size()) sends_.resize(index + 1 + index / 2);
    return sends_[index];
  }

  void prepareSend(int fd, const Send& send) {
    io_uring_sqe& sqe = nextSqe();
    // MSG_WAITALL: on a stream socket the kernel sends every byte before it completes,
    // waiting for room as needed, so a completion is the end of the message or an error.
    ::io_uring_prep_send(&sqe, fd, sendBufferAt(send.buffer) + send.done, send.length - send.done,
                         MSG_NOSIGNAL | MSG_WAITALL);
    ::io_uring_sqe_set_data64(&sqe, sendData(fd, send.buffer));
  }

  // One send completion: reported if its send is current, else its buffer is free again.
  void collectSend(const io_uring_cqe& cqe, std::uint64_t data, std::vector<ReadyEvent>& out) {
    const auto fd = static_cast<int>(static_cast<std::uint32_t>(data));
    const auto buffer = static_cast<std::uint16_t>(data >> 32);
    const auto index = static_cast<std::size_t>(fd);
    Send* send = index < sends_.size() ? &sends_[index] : nullptr;
    if (send == nullptr || send->state != SendState::inFlight || send->buffer != buffer) {
      freeSendBuffers_.push_back(buffer);
      return;
    }
    int result = cqe.res;
    if (result > 0 && send->done + static_cast<std::uint32_t>(result) < send->length) {
      // Short all the same (a signal, the socket's timeout): send the rest.
      send->done += static_cast<std::uint32_t>(result);
      prepareSend(fd, *send);
      return;
    }
    if (result == 0) result = -EPIPE;  // nothing sent and no error: the stream cannot take more
    send->state = SendState::idle;
    freeSendBuffers_.push_back(buffer);
    ReadyEvent event{fd, kSent};
    event.result = result < 0 ? result : static_cast<int>(send->length);
    out.push_back(event);
  }

  char* bufferAt(std::uint16_t buffer) const noexcept { return buffers_.data() + std::size_t{buffer} * kBufferSize; }

  Receive& receiveOf(int fd) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= receives_.size()) receives_.resize(index + 1 + index / 2);
    return receives_[index];
  }

  void submitCancel(std::uint64_t target) {
    io_uring_sqe& sqe = nextSqe();
    ::io_uring_prep_cancel64(&sqe, target, 0);
    ::io_uring_sqe_set_data64(&sqe, kRemoveTag);
    sqe.flags |= IOSQE_CQE_SKIP_SUCCESS;
  }

  // One receive completion: reported if its receive is current, else its buffer goes
  // straight back to the ring.
  void collectReceive(const io_uring_cqe& cqe, std::uint64_t data, std::vector<ReadyEvent>& out) {
    const auto fd = static_cast<int>(static_cast<std::uint32_t>(data));
    const bool holdsBuffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
    const auto buffer = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    const auto index = static_cast<std::size_t>(fd);
    Receive* receive = index < receives_.size() ? &receives_[index] : nullptr;
    if (receive == nullptr || receive->state != ReceiveState::armed || receiveData(fd, *receive) != data) {
      if (holdsBuffer) recycle(buffer);
      return;
    }
    const bool continues = (cqe.flags & IORING_CQE_F_MORE) != 0;
    if (!continues) receive->state = ReceiveState::idle;
    ReadyEvent event{fd, kReceived};
    event.result = cqe.res;
    event.buffer = buffer;
    event.receive =
        static_cast<std::uint8_t>((holdsBuffer ? kReceiveHoldsBuffer : 0) | (continues ? kReceiveContinues : 0));
    out.push_back(event);
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
      // Nothing to wait for: a system call only if there is something to submit, or
      // task work that would post completions (cooperative: it waits for us to ask).
      if (::io_uring_sq_ready(&ring_) != 0) {
        result = ::io_uring_submit_and_get_events(&ring_);
      } else if ((IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0) {
        result = ::io_uring_get_events(&ring_);
      }
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
      if (data & kReceiveTag) {
        collectReceive(*cqe, data, out);
        continue;
      }
      if (data & kSendTag) {
        collectSend(*cqe, data, out);
        continue;
      }
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
  std::vector<Watch> watches_;     // indexed by descriptor
  std::vector<int> rearm_;         // reported by the last wait: armed again by the next
  std::vector<Receive> receives_;  // indexed by descriptor
  bool receiving_ = false;         // the completion path is on (openBufferRing)
  Mapping ringMemory_;
  Mapping buffers_;
  Mapping sendMemory_;  // kSendBufferCount buffers, once mapped
  std::vector<std::uint16_t> freeSendBuffers_;
  std::vector<Send> sends_;  // indexed by descriptor
  io_uring_buf_ring* bufferRing_ = nullptr;
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
  if (error == 0) {
    if (!backend->openBufferRing())
      log::info("io_uring: no multishot receive into provided buffers here (Linux 6.0); receives use polls");
    return backend;
  }
  // Disabled by kernel.io_uring_disabled or a seccomp filter (EPERM), not in this kernel
  // (ENOSYS), too old for what the backend uses (ENOTSUP), out of memory...
  log::warn("io_uring is not usable here ({}); this reactor runs on epoll instead", std::strerror(error));
  return makeEpollBackend();
}

}  // namespace torsion::detail
