// Internal. AsioBackend: readiness from an asio::io_context. Only asio_backend*.cpp
// include this header, and so Asio.
//
// Each watched descriptor is an asio::posix::stream_descriptor (released, never closed,
// when the reactor stops watching it) with one async_wait per interest bit. A completed
// wait is handed to the reactor and re-armed only after the reactor has dispatched it;
// if the descriptor is still ready the new wait completes at once, which makes it
// level-triggered like the other backends.
//
// Two modes share the readiness code (asio_backend.cpp):
// - own (Reactor("asio")): the backend's private io_context runs inside wait(), until a
//   wait completes or the timeout passes; the reactor runs its usual loop.
// - attached (attachToIoContext): the user's io_context runs, and the backend runs the
//   reactor's passes from its handlers (asio_backend_driver.cpp): a completed wait, a
//   steady_timer armed for the next torsion timer, or a posted handler when a pass is due
//   at once (soon calls, stop). wait() then only hands over what the handlers gathered.
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
#pragma once

#include <asio/bind_allocator.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cassert>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "asio_handler_memory.hpp"
#include "backend.hpp"

namespace torsion::detail {

class AsioBackend final : public Backend {
 public:
  /// Own mode: a private io_context, kept from running out of work by a guard.
  AsioBackend();
  /// Attached mode: the user's io_context, which runs the passes.
  explicit AsioBackend(asio::io_context& context);
  ~AsioBackend() override;
  AsioBackend(const AsioBackend&) = delete;
  AsioBackend& operator=(const AsioBackend&) = delete;

  // Readiness (asio_backend.cpp).
  const char* name() const noexcept override { return "asio"; }
  void add(int fd, std::uint8_t interest) override;
  void modify(int fd, std::uint8_t oldInterest, std::uint8_t interest) override;
  void remove(int fd, std::uint8_t oldInterest) override;
  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override;

  // The attached-mode driver (asio_backend_driver.cpp).
  void bind(LoopDriver& driver) override;
  bool runLoop(bool installSignalHandlers) override;
  void wakeUp() override;

 private:
  using Clock = std::chrono::steady_clock;

  enum class Mode : std::uint8_t {
    own,       // a private io_context, run inside wait()
    attached,  // the user's io_context, whose handlers run the passes
  };

  // What the backend is doing with its io_context. One value, not a set of flags, so
  // that "withdrawn while collecting" or "woken outside collect()" cannot be written
  // down; enter() asserts each transition (allowedTransition lists them).
  enum class Phase : std::uint8_t {
    withdrawn,   // attached and not running: nothing of torsion's is armed
    idle,        // waits armed; between passes (own mode: outside wait())
    collecting,  // inside collect(), running the io_context: handlers only gather
    woken,       // inside collect(), and asked to return as soon as it can
    passing,     // attached: running a pass (or starting): wake-ups wait for its end
  };

  struct Watch {
    // In place, not behind a pointer: one allocation less per connection. Moving it
    // (when watches_ grows) keeps its outstanding waits, which live in Asio's reactor.
    std::optional<asio::posix::stream_descriptor> descriptor;
    std::uint64_t generation = 0;  // 0: not watched
    std::uint64_t added = 0;       // when it was registered (addCount_), for the fences
    std::uint8_t interest = 0;
    std::uint8_t armed = 0;  // bits with a wait outstanding
    std::uint8_t ready = 0;  // completed, not yet handed to the reactor
    bool queued = false;     // listed in ready_
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

  // Enters a phase for a scope and goes back to the one it left however the scope is
  // left, unless the scope withdrew (a pass that ended the reactor's run). The reactor
  // can start (a pass) inside collect(), when Reactor::iterate runs the io_context.
  class PhaseScope {
   public:
    PhaseScope(AsioBackend& backend, Phase during) : backend_(backend), before_(backend.phase_) {
      backend_.enter(during);
    }
    ~PhaseScope() {
      if (backend_.phase_ != Phase::withdrawn) backend_.enter(before_);
    }
    PhaseScope(const PhaseScope&) = delete;
    PhaseScope& operator=(const PhaseScope&) = delete;

   private:
    AsioBackend& backend_;
    const Phase before_;
  };

  static constexpr bool allowedTransition(Phase from, Phase to) noexcept {
    switch (to) {
      case Phase::withdrawn: return from == Phase::idle || from == Phase::passing;
      case Phase::idle: return from != Phase::idle;
      case Phase::collecting: return from == Phase::idle || from == Phase::passing;
      case Phase::woken: return from == Phase::collecting || from == Phase::passing;
      case Phase::passing: return from == Phase::idle || from == Phase::collecting || from == Phase::woken;
    }
    return false;
  }
  void enter(Phase to) noexcept {
    assert(allowedTransition(phase_, to) && "AsioBackend: impossible phase transition");
    assert((to != Phase::withdrawn && to != Phase::passing) || mode_ == Mode::attached);
    phase_ = to;
  }
  bool inCollect() const noexcept { return phase_ == Phase::collecting || phase_ == Phase::woken; }

  // Every handler the backend gives Asio (waits, posts, the timer) goes through here, so
  // its operation's memory comes from Life's free list. Asio's own cache of operation
  // memory lives in one run()/run_one() call and is freed when that call returns, so an
  // io_context driven a handler at a time (Reactor::iterate, a user's run_one loop)
  // would allocate for every operation.
  template <class Handler>
  auto recycled(Handler&& handler) {
    return asio::bind_allocator(RecyclingAllocator<void>(&life_->memory), std::forward<Handler>(handler));
  }

  // ---- readiness (asio_backend.cpp)
  void arm(int fd, Watch& watch);
  void startWait(int fd, Watch& watch, std::uint8_t bit);
  void completed(int fd, std::uint64_t generation, std::uint8_t bit, const asio::error_code& error);
  static bool reallyReady(int fd, std::uint8_t bit);
  void postFence();
  void fenceReached(std::uint64_t upTo);
  void takeReady(std::vector<ReadyEvent>& out);
  void rearmDelivered();
  void collect(int timeoutMs);

  // ---- the attached-mode driver (asio_backend_driver.cpp)
  void needPass();
  void postPass();
  void startFromContext();
  void begin(bool installSignalHandlers);
  void runPass();
  void scheduleNext();
  void armTimer(Clock::time_point due);
  void timerFired(std::uint64_t generation, const asio::error_code& error);
  void withdraw();
  void resume();

  std::unique_ptr<asio::io_context> owned_;  // own mode only
  asio::io_context& context_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::shared_ptr<Life> life_ = std::make_shared<Life>(this);  // Life's memory cannot be copied
  asio::steady_timer timer_{context_};
  const Mode mode_;
  Phase phase_;
  LoopDriver* driver_ = nullptr;

  std::vector<Watch> watches_;  // by descriptor number
  std::vector<int> ready_;      // descriptors with completed waits, in completion order
  std::vector<int> delivered_;  // handed over in the last wait, to re-arm
  std::uint64_t lastGeneration_ = 0;
  std::uint64_t addCount_ = 0;
  std::uint64_t safeUpTo_ = 0;                // registrations up to this one are past a fence
  std::optional<std::uint64_t> fenceCovers_;  // a fence is posted, for registrations up to this

  // The wake-ups the driver has outstanding on the io_context; either, both or neither.
  bool passPosted_ = false;                    // a handler that runs a pass is queued
  std::optional<Clock::time_point> timerDue_;  // timer_ is armed for this time
  std::uint64_t timerGeneration_ = 0;          // changed when timer_ is re-armed or cancelled
};

}  // namespace torsion::detail
