// Public. testing::Clock: an IReactorTime whose time only moves when a test says so.
#pragma once

#include <torsion/delayed_call.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace torsion {
namespace detail {
class TimerQueue;
}

namespace testing {

/// A fake clock for tests (Twisted's `task.Clock`): time starts at 0 and moves only
/// when the test calls advance() or pump(), so timeouts, retries and looping calls are
/// tested without sleeping. Pass it wherever an IReactorTime is taken.
///
/// Scheduled calls run inside advance(), soonest first, calls due at the same time in
/// the order they were scheduled; a call that a running call schedules also runs within
/// the same advance() if it is due by the new time (as in Twisted). DelayedCall handles
/// from this clock support cancel, reset and delay as on the reactor.
///
/// Thread safety: not thread-safe; use a Clock on one thread.
///
/// @code
/// torsion::testing::Clock clock;
/// bool fired = false;
/// clock.callLater(2.0, [&] { fired = true; });
/// clock.advance(1.9);   // not yet
/// clock.advance(0.1);   // fired == true
/// @endcode
class Clock : public IReactorTime {
 public:
  /// A clock at time 0 with nothing scheduled.
  Clock();

  /// Cancels what is still scheduled; DelayedCall handles become inactive.
  ~Clock() override;

  Clock(const Clock&) = delete;             ///< Not copyable.
  Clock& operator=(const Clock&) = delete;  ///< Not copyable.

  /// The fake current time, in seconds since the clock was made (plus all advances).
  double seconds() const override;

  /// Schedules `fn` at seconds() + delaySeconds; it runs in a later advance().
  /// @throws std::invalid_argument if delaySeconds is negative or not a number.
  DelayedCall callLater(double delaySeconds, std::function<void()> fn) override;

  /// The calls still scheduled, soonest first.
  std::vector<DelayedCall> getDelayedCalls() const override;

  /// Moves time forward by `amount` seconds and runs every call due by then.
  /// @throws std::invalid_argument if amount is negative or not a number (time never
  /// goes back).
  /// @throws whatever a scheduled call throws: it propagates at once, as in Twisted;
  /// the calls not run yet stay scheduled and run at the next advance().
  void advance(double amount);

  /// Advances by each amount in turn, as a sequence of advance() calls.
  /// @code
  /// clock.pump({1.0, 1.0, 1.0});   // three seconds, one at a time
  /// @endcode
  void pump(const std::vector<double>& timings);

 private:
  double now_ = 0;
  std::unique_ptr<detail::TimerQueue> queue_;
};

}  // namespace testing
}  // namespace torsion
