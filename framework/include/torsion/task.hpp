// Public. LoopingCall: call a function every so many seconds (Twisted's task.LoopingCall).
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/delayed_call.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace torsion {

/// Calls a function repeatedly, every `interval` seconds, on a clock: the Reactor, or a
/// testing::Clock in tests (Twisted's `task.LoopingCall`).
///
/// Calls stay on the grid start + n * interval: a call that runs late is followed by
/// the next point of the grid, and grid points that passed while the function ran, or
/// while the reactor was busy, are skipped rather than made up in a burst. withCount
/// tells the function how many points passed since its last call.
///
/// The function may return a Deferred: the next call is then scheduled only once it
/// has fired. If the function throws, or its Deferred fails, the loop stops and the
/// Deferred returned by start() fails with that Failure.
///
/// Destroying a running LoopingCall cancels its next call; the Deferred returned by
/// start() then never fires. Not thread-safe: use it on its clock's thread.
///
/// @code
/// torsion::LoopingCall heartbeat(reactor, [&] { connection.sendLine("PING"); });
/// heartbeat.start(30.0).addCallback([] { torsion::log::info("heartbeat stopped"); });
/// ...
/// heartbeat.stop();
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor (or clock).
class LoopingCall {
 public:
  /// A loop calling `f` on `clock`, not started yet. `f` takes no argument and returns
  /// nothing, a value (ignored), or a Deferred (waited for).
  /// @param clock where calls are scheduled; must outlive the loop.
  /// @param f the function to call.
  template <class F>
  requires std::is_invocable_v<F&> LoopingCall(IReactorTime& clock, F f) : LoopingCall(clock, wrap(std::move(f)), 0) {}

  /// A loop calling `countCallable(n)` on `clock`, where n is the number of intervals
  /// that passed since the previous call (normally 1; more when calls were skipped; 1
  /// always with an interval of 0). A call that would get 0 is not made.
  /// @code
  /// auto animation = torsion::LoopingCall::withCount(reactor, [&](std::int64_t frames) {
  ///   sprite.advance(frames);   // catches up after a stall
  /// });
  /// animation.start(1.0 / 60);
  /// @endcode
  static LoopingCall withCount(IReactorTime& clock, std::function<void(std::int64_t)> countCallable);

  /// Stops the loop (as stop() would, without firing start()'s Deferred).
  ~LoopingCall();

  LoopingCall(LoopingCall&&) noexcept;                  ///< Moves the loop; the source is left empty.
  LoopingCall& operator=(LoopingCall&&) noexcept;       ///< Stops this loop, then takes the other.
  LoopingCall(const LoopingCall&) = delete;             ///< Not copyable.
  LoopingCall& operator=(const LoopingCall&) = delete;  ///< Not copyable.

  /// Starts calling the function every `interval` seconds.
  /// @param interval seconds between calls; 0 means on every pass of the loop.
  /// @param now true to make the first call at once (inside start), false to make it
  /// after one interval.
  /// @return a Deferred that fires (with no value) when stop() ends the loop, or fails
  /// with the Failure that ended it.
  /// @throws std::logic_error if already running.
  /// @throws std::invalid_argument if interval is negative or not a number.
  Deferred<void> start(double interval, bool now = true);

  /// Stops the loop: no further call. start()'s Deferred fires now, or, if the
  /// function's Deferred is still pending, when that one fires.
  /// @throws std::logic_error if not running.
  void stop();

  /// Skips the next call and starts the grid again from now.
  /// @throws std::logic_error if not running.
  void reset();

  /// True from start() until stop() or a failure.
  bool running() const noexcept;

  /// The interval given to the last start().
  double interval() const noexcept;

  /// The next scheduled call (inactive while the function's Deferred is pending, and
  /// when not running).
  DelayedCall call() const;

 private:
  struct State;

  LoopingCall(IReactorTime& clock, std::function<Deferred<void>()> f, int);

  // Turns any function into one returning a Deferred<void> that never throws.
  template <class F>
  static std::function<Deferred<void>()> wrap(F f) {
    return [f = std::move(f)]() mutable -> Deferred<void> {
      auto outcome = maybeDeferred(f);
      if constexpr (std::is_void_v<typename decltype(outcome)::value_type>) {
        return outcome;
      } else {
        return outcome.addCallback([](auto&&) {});
      }
    };
  }

  std::shared_ptr<State> state_;
};

}  // namespace torsion
