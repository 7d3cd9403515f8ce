// asio: readiness from an asio::io_context, the only file of torsion that includes Asio.
//
// Each watched descriptor is an asio::posix::stream_descriptor (released, never closed,
// when the reactor stops watching it) with one async_wait per interest bit. A completed
// wait is handed to the reactor and re-armed only after the reactor has dispatched it;
// if the descriptor is still ready the new wait completes at once, which makes it
// level-triggered like the other backends.
//
// Two modes share the code:
// - own (Reactor("asio")): the backend's private io_context runs inside wait(), until a
//   wait completes or the timeout passes; the reactor runs its usual loop.
// - attached (attachToIoContext): the user's io_context runs, and the backend runs the
//   reactor's passes from its handlers: a completed wait, a steady_timer armed for the
//   next torsion timer, or a posted handler when a pass is due at once (soon calls,
//   stop). wait() then only hands over what the handlers gathered.
//
// Every registration has a generation. Removing a descriptor (or withdrawing on stop)
// changes it, so a wait completing afterwards, even for a reused descriptor number,
// is recognised as stale and dropped.
//
// Asio itself can complete a wait spuriously: its reactor queues a descriptor's
// readiness as an operation, and if that descriptor is released (and its bookkeeping
// recycled for a new registration) before the operation runs, the new registration's
// wait completes with the old readiness. In own mode the queue is always drained
// before the reactor dispatches, so this cannot happen; in attached mode passes run
// between other handlers, so a registration is checked with poll(2) until a "fence"
// handler posted after it has run (everything queued before it has run by then).
#include <asio/bind_allocator.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <poll.h>

#include <torsion/asio_reactor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backend.hpp"
#include "reactor_core.hpp"

namespace torsion::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Sets a flag for a scope, and clears it however the scope is left.
class FlagScope {
 public:
  explicit FlagScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~FlagScope() { flag_ = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;

 private:
  bool& flag_;
};

// Memory for Asio's wait operations, reused. Asio allocates an operation for every
// async_wait and recycles it only when the wait starts inside io_context::run; the
// reactor re-arms its waits from wait(), outside it, so without this every completed
// wait would cost an allocation. Single-threaded, like the backend.
class HandlerMemory {
 public:
  HandlerMemory() { free_.reserve(kMaxFree); }
  ~HandlerMemory() {
    for (void* block : free_) ::operator delete(block);
  }
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (size > kBlockSize) return ::operator new(size);
    if (free_.empty()) return ::operator new(kBlockSize);
    void* block = free_.back();
    free_.pop_back();
    return block;
  }
  void deallocate(void* block, std::size_t size) {
    if (size > kBlockSize || free_.size() == kMaxFree) {
      ::operator delete(block);
      return;
    }
    free_.push_back(block);
  }

 private:
  static constexpr std::size_t kBlockSize = 256;  // a wait operation with its handler fits
  static constexpr std::size_t kMaxFree = 64;
  std::vector<void*> free_;
};

// The allocator bound to each wait's handler, drawing on a HandlerMemory.
template <class T>
struct RecyclingAllocator {
  using value_type = T;
  HandlerMemory* memory;
  explicit RecyclingAllocator(HandlerMemory* from) noexcept : memory(from) {}
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>& other) noexcept : memory(other.memory) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t n) { memory->deallocate(pointer, n * sizeof(T)); }
  template <class U>
  bool operator==(const RecyclingAllocator<U>& other) const noexcept {
    return memory == other.memory;
  }
  template <class U>
  bool operator!=(const RecyclingAllocator<U>& other) const noexcept {
    return memory != other.memory;
  }
};

class AsioBackend final : public Backend {
 public:
  // Own mode: a private io_context, kept from running out of work by a guard.
  AsioBackend()
      : owned_(std::make_unique<asio::io_context>(1)),
        context_(*owned_),
        guard_(asio::make_work_guard(*owned_)),
        attached_(false),
        withdrawn_(false) {}

  // Attached mode: the user's io_context, which runs the passes.
  explicit AsioBackend(asio::io_context& context) : context_(context), attached_(true), withdrawn_(true) {}

  ~AsioBackend() override {
    life_->backend = nullptr;  // handlers still queued on a user's io_context do nothing
    for (auto& watch : watches_) {
      if (watch.descriptor) watch.descriptor->release();
    }
    timer_.cancel();
  }

  AsioBackend(const AsioBackend&) = delete;
  AsioBackend& operator=(const AsioBackend&) = delete;

  const char* name() const noexcept override { return "asio"; }

  void add(int fd, std::uint8_t interest) override {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= watches_.size()) watches_.resize(std::max(index + 1, watches_.size() * 2));
    Watch& watch = watches_[index];
    watch.descriptor = std::make_unique<asio::posix::stream_descriptor>(context_, fd);  // throws system_error
    watch.generation = ++lastGeneration_;
    watch.added = ++addCount_;
    if (attached_) postFence();
    watch.interest = interest;
    watch.armed = 0;
    watch.ready = 0;
    arm(fd, watch);
  }

  void modify(int fd, std::uint8_t, std::uint8_t interest) override {
    Watch& watch = watches_[static_cast<std::size_t>(fd)];
    watch.interest = interest;
    arm(fd, watch);  // a bit dropped keeps its wait; the completion is ignored then
  }

  void remove(int fd, std::uint8_t) override {
    Watch& watch = watches_[static_cast<std::size_t>(fd)];
    watch.generation = 0;  // pending completions (now cancelled) are stale
    watch.interest = watch.armed = watch.ready = 0;
    if (watch.descriptor) {
      watch.descriptor->release();  // the reactor's owner closes the descriptor, not Asio
      watch.descriptor.reset();
    }
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    const bool byHand = !inPass_;  // own loop, or Reactor::iterate on an attached reactor
    if (byHand && withdrawn_) resume();
    rearmDelivered();
    if (byHand) collect(timeoutMs);
    takeReady(out);
    // Reactor::iterate on a stopped attached reactor: leave the io_context to its owner.
    if (byHand && attached_ && !core_->running() && !core_->stopRequested()) withdraw();
  }

  void bind(ReactorCore& core) override {
    core_ = &core;
    if (!attached_) return;
    core.timers().onSoonestChanged([this] { wakeUp(); });
    // The reactor starts when the io_context first runs a handler.
    asio::post(context_, [life = life_] {
      if (AsioBackend* self = life->backend) self->startFromContext();
    });
  }

  bool runLoop(bool installSignalHandlers) override {
    if (!attached_) return false;
    if (context_.stopped()) context_.restart();
    begin(installSignalHandlers);
    while (core_->running() || core_->stopRequested()) {
      std::size_t ran = 0;
      try {
        ran = context_.run_one();
      } catch (...) {
        ReactorCore::logUnhandled("an Asio handler", std::current_exception());
        continue;
      }
      if (ran == 0) {  // the io_context was stopped: so is the reactor
        if (core_->running()) core_->stop();
        runPass();
        break;
      }
    }
    return true;
  }

  void wakeUp() override {
    if (!attached_ || withdrawn_ || inPass_) return;  // a pass schedules the next when it ends
    if (inWait_) {
      wake_ = true;
      return;
    }
    scheduleNext();
  }

 private:
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    std::uint64_t generation = 0;  // 0: not watched
    std::uint64_t added = 0;       // when it was registered (addCount_), for the fences
    std::uint8_t interest = 0;
    std::uint8_t armed = 0;   // bits with a wait outstanding
    std::uint8_t ready = 0;   // completed, not yet handed to the reactor
    bool queued = false;      // listed in ready_
  };

  // What handlers hold instead of the backend, which may be gone when they run.
  // It also holds the memory of the waits: a completing wait frees its operation while
  // its handler still holds a Life, so the memory outlives every use of it.
  struct Life {
    // A constructor, not an aggregate: make_shared cannot aggregate-initialise on clang 14.
    explicit Life(AsioBackend* owner) : backend(owner) {}
    AsioBackend* backend;
    HandlerMemory memory;
  };

  // ---------------------------------------------------------------- readiness

  void arm(int fd, Watch& watch) {
    if (withdrawn_ || !watch.descriptor) return;
    const std::uint8_t missing = watch.interest & ~watch.armed;
    if (missing & kReadable) startWait(fd, watch, kReadable);
    if (missing & kWritable) startWait(fd, watch, kWritable);
  }

  void startWait(int fd, Watch& watch, std::uint8_t bit) {
    watch.armed |= bit;
    const auto kind = bit == kReadable ? asio::posix::stream_descriptor::wait_read
                                       : asio::posix::stream_descriptor::wait_write;
    auto handler = [life = life_, fd, generation = watch.generation, bit](const asio::error_code& error) {
      if (AsioBackend* self = life->backend) self->completed(fd, generation, bit, error);
    };
    RecyclingAllocator<void> allocator(&life_->memory);
    watch.descriptor->async_wait(kind, asio::bind_allocator(allocator, std::move(handler)));
  }

  void completed(int fd, std::uint64_t generation, std::uint8_t bit, const asio::error_code& error) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= watches_.size()) return;
    Watch& watch = watches_[index];
    if (watch.generation != generation) return;  // removed or withdrawn since it was armed
    watch.armed &= static_cast<std::uint8_t>(~bit);
    if (error == asio::error::operation_aborted || !(watch.interest & bit)) return;
    if (!error && watch.added > safeUpTo_ && attached_ && !reallyReady(fd, bit)) {
      arm(fd, watch);  // a predecessor's readiness (see the top of this file): wait on
      return;
    }
    // Any other error (say, a descriptor epoll cannot watch) is "ready" for both, as
    // poll would say: the handler's read or write meets the error itself.
    watch.ready |= error ? (kReadable | kWritable) : bit;
    if (!watch.queued) {
      watch.queued = true;
      ready_.push_back(fd);
    }
    needPass();
  }

  static bool reallyReady(int fd, std::uint8_t bit) {
    pollfd probe{fd, static_cast<short>(bit == kReadable ? POLLIN : POLLOUT), 0};
    return ::poll(&probe, 1, 0) != 0;  // ready, an error or a hang-up; or poll failed: let the handler see
  }

  // Every completion queued before this handler runs has run when it does: the
  // registrations made before it was posted are safe from a predecessor's readiness.
  void postFence() {
    if (fencePending_) return;
    fencePending_ = true;
    asio::post(context_, [life = life_, upTo = addCount_] {
      if (AsioBackend* self = life->backend) self->fenceReached(upTo);
    });
  }

  void fenceReached(std::uint64_t upTo) {
    fencePending_ = false;
    safeUpTo_ = upTo;
    if (addCount_ > safeUpTo_) postFence();
  }

  void takeReady(std::vector<ReadyEvent>& out) {
    for (int fd : ready_) {
      Watch& watch = watches_[static_cast<std::size_t>(fd)];
      watch.queued = false;
      if (watch.ready == 0) continue;  // removed since
      out.push_back({fd, watch.ready});
      watch.ready = 0;
      delivered_.push_back(fd);
    }
    ready_.clear();
  }

  // Level-triggered: wait again for what was handed over, once it has been dispatched.
  void rearmDelivered() {
    for (int fd : delivered_) arm(fd, watches_[static_cast<std::size_t>(fd)]);
    delivered_.clear();
  }

  // Runs the io_context until a wait completes, something wakes us, or the timeout.
  void collect(int timeoutMs) {
    FlagScope waiting(inWait_);
    wake_ = false;
    if (!ready_.empty()) timeoutMs = 0;
    if (timeoutMs != 0) {
      const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
      while (ready_.empty() && !wake_) {
        const std::size_t ran = timeoutMs < 0 ? context_.run_one() : context_.run_one_until(deadline);
        if (ran == 0) break;  // the deadline passed, or a user's io_context was stopped
      }
    }
    context_.poll();  // take whatever else is ready now, in the same batch
  }

  // ---------------------------------------------------------------- attached mode

  void needPass() {
    if (!attached_ || withdrawn_) return;
    if (inWait_) {
      wake_ = true;
      return;
    }
    postPass();
  }

  void postPass() {
    if (passPosted_) return;
    passPosted_ = true;
    asio::post(context_, [life = life_] {
      if (AsioBackend* self = life->backend) {
        self->passPosted_ = false;
        self->runPass();
      }
    });
  }

  void startFromContext() {
    if (core_->running() || core_->stopRequested()) return;  // Reactor::run got there first
    begin(false);
  }

  void begin(bool installSignalHandlers) {
    {
      FlagScope starting(inPass_);
      resume();
      core_->startRunning(installSignalHandlers);
    }
    runPass();
  }

  // One pass of the reactor on what the handlers gathered, then the next wake-up.
  void runPass() {
    if (withdrawn_ || inPass_) return;
    if (inWait_) {  // Reactor::iterate is running the io_context: its wait takes the events
      wake_ = true;
      return;
    }
    {
      FlagScope passing(inPass_);
      core_->iterate(0);
      if (core_->stopRequested()) {
        core_->finishRunning();
        withdraw();
        return;
      }
    }
    rearmDelivered();
    scheduleNext();
  }

  void scheduleNext() {
    const int timeoutMs = ready_.empty() ? core_->passTimeoutMs() : 0;
    if (timeoutMs == 0) {
      postPass();
    } else if (timeoutMs > 0) {
      armTimer(Clock::now() + std::chrono::milliseconds(timeoutMs));
    }
  }

  void armTimer(Clock::time_point due) {
    if (timerArmed_ && timerDue_ <= due) return;  // it fires first; that pass re-arms
    timerArmed_ = true;
    timerDue_ = due;
    const std::uint64_t generation = ++timerGeneration_;
    timer_.expires_at(due);
    timer_.async_wait([life = life_, generation](const asio::error_code& error) {
      if (AsioBackend* self = life->backend) self->timerFired(generation, error);
    });
  }

  void timerFired(std::uint64_t generation, const asio::error_code& error) {
    if (generation != timerGeneration_) return;  // re-armed or withdrawn since
    timerArmed_ = false;
    if (!error) runPass();
  }

  // The reactor stopped: cancel every wait and the timer, so that the io_context runs
  // out of torsion's work. Interest is kept for resume().
  void withdraw() {
    withdrawn_ = true;
    for (auto& watch : watches_) {
      if (!watch.descriptor) continue;
      watch.descriptor->cancel();
      watch.generation = ++lastGeneration_;
      watch.armed = 0;
    }
    ++timerGeneration_;
    timerArmed_ = false;
    timer_.cancel();
  }

  void resume() {
    withdrawn_ = false;
    for (std::size_t fd = 0; fd < watches_.size(); ++fd) arm(static_cast<int>(fd), watches_[fd]);
  }

  std::unique_ptr<asio::io_context> owned_;  // own mode only
  asio::io_context& context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::shared_ptr<Life> life_ = std::make_shared<Life>(this);  // Life's memory cannot be copied
  asio::steady_timer timer_{context_};
  const bool attached_;
  ReactorCore* core_ = nullptr;

  std::vector<Watch> watches_;  // by descriptor number
  std::vector<int> ready_;      // descriptors with completed waits, in completion order
  std::vector<int> delivered_;  // handed over in the last wait, to re-arm
  std::uint64_t lastGeneration_ = 0;
  std::uint64_t addCount_ = 0;
  std::uint64_t safeUpTo_ = 0;  // registrations up to this one are past a fence
  bool fencePending_ = false;

  bool withdrawn_;          // attached and not running: nothing armed
  bool inWait_ = false;     // inside collect(): handlers only gather
  bool inPass_ = false;     // running a pass (or starting): wake-ups wait for its end
  bool wake_ = false;       // collect() should return
  bool passPosted_ = false;
  bool timerArmed_ = false;
  Clock::time_point timerDue_{};
  std::uint64_t timerGeneration_ = 0;
};

// The public Reactor has a protected constructor for a backend torsion made itself.
class AttachedReactor final : public Reactor {
 public:
  explicit AttachedReactor(asio::io_context& context) : Reactor(std::make_unique<AsioBackend>(context)) {}
};

}  // namespace

std::unique_ptr<Backend> makeAsioBackend() { return std::make_unique<AsioBackend>(); }

}  // namespace torsion::detail

namespace torsion {

std::unique_ptr<Reactor> attachToIoContext(asio::io_context& context) {
  return std::make_unique<detail::AttachedReactor>(context);
}

}  // namespace torsion
