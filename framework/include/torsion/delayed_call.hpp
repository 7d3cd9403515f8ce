// Public. DelayedCall (a scheduled call) and IReactorTime (anything that schedules them).
#pragma once

#include <functional>
#include <vector>

namespace torsion {

namespace detail {
struct TimerEntry;
class TimerQueue;
}  // namespace detail

/// A handle to a call scheduled with IReactorTime::callLater, as Twisted's DelayedCall.
///
/// Handles are cheap to copy; all copies refer to the same scheduled call. A
/// default-constructed handle refers to nothing and is never active.
///
/// As in Twisted, cancel(), reset() and delay() throw once the call is no longer
/// scheduled (AlreadyCalled after it ran, AlreadyCancelled after a cancel). A call may
/// have run by the time code looks at it again (the idle timeout that closed the
/// connection, seen again from connectionLost), so code that is not sure asks active()
/// first; torsion's own code always does.
///
/// @code
/// auto call = reactor.callLater(5.0, [] { torsion::log::info("five seconds"); });
/// call.delay(1.0);      // now six
/// torsion::cancelIfActive(call);  // cancel() would throw once the call has run
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor (or clock); that includes
/// copying and destroying handles, which count references without atomics.
class DelayedCall {
 public:
  /// An empty handle; active() is false.
  DelayedCall() = default;

  /// Another handle to the same call.
  DelayedCall(const DelayedCall& other) noexcept;

  /// Takes over `other`'s call; `other` is left empty.
  DelayedCall(DelayedCall&& other) noexcept : entry_(other.entry_) { other.entry_ = nullptr; }

  /// Makes this a handle to `other`'s call.
  DelayedCall& operator=(const DelayedCall& other) noexcept;

  /// Takes over `other`'s call; `other` is left empty.
  DelayedCall& operator=(DelayedCall&& other) noexcept;

  /// Lets go of the call. The call stays scheduled: dropping a handle never cancels.
  ~DelayedCall();

  /// The time (on its clock's seconds() scale) at which the call runs.
  /// @throws std::logic_error on an empty handle.
  double getTime() const;

  /// Unschedules the call. Where it may have run already, use cancelIfActive:
  /// @code
  /// void connectionLost(const torsion::Failure&) override {
  ///   torsion::cancelIfActive(idle_);  // the idle timer may be what closed us
  /// }
  /// @endcode
  /// @throws AlreadyCalled if it already ran; AlreadyCancelled if already cancelled
  /// (Twisted's exceptions, for the same cases); std::logic_error on an empty handle.
  void cancel();

  /// Reschedules the call to run `secondsFromNow` seconds from now.
  /// @throws AlreadyCalled or AlreadyCancelled if the call is no longer active.
  void reset(double secondsFromNow);

  /// Postpones the call by `secondsLater` seconds (negative brings it forward).
  /// @throws AlreadyCalled or AlreadyCancelled if the call is no longer active.
  void delay(double secondsLater);

  /// True while the call is scheduled: not yet run and not cancelled. While it is true,
  /// cancel(), reset() and delay() do not throw (on the thread that owns the call, where
  /// nothing can run it in between). False for an empty handle.
  bool active() const noexcept;

  /// True once the call has run (or is running).
  bool called() const noexcept;

  /// True once the call was cancelled.
  bool cancelled() const noexcept;

 private:
  // Only a timer queue (the reactor's, testing::Clock's) makes handles to its entries.
  friend class detail::TimerQueue;
  // Takes a reference of its own to `entry` (the entries count their handles).
  explicit DelayedCall(detail::TimerEntry* entry) noexcept;

  detail::TimerEntry* entry_ = nullptr;
};

/// Cancels `call` if it is still scheduled; does nothing to a call that has run or was
/// cancelled, or to an empty handle. For the places (connectionLost, destructors, a
/// connection that succeeded before its timeout) where a timer may or may not have run.
/// @code
/// void connectionLost(const torsion::Failure&) override { torsion::cancelIfActive(idle_); }
/// @endcode
inline void cancelIfActive(DelayedCall& call) {
  if (call.active()) call.cancel();
}

/// Something that tells time and schedules calls: the Reactor, and testing::Clock whose
/// time a test advances by hand. Deferred's addTimeout and deferLater take one, so code
/// written against it runs the same on a real reactor and under a fake clock.
///
/// Thread safety: every method belongs to the thread that runs the reactor (or clock).
class IReactorTime {
 public:
  virtual ~IReactorTime() = default;

  /// The current time in seconds. On the reactor it is monotonic (never goes back);
  /// its zero point is unspecified, so only differences are meaningful.
  virtual double seconds() const = 0;

  /// Schedules `fn` to run once, `delaySeconds` from now (0 means on the next pass of
  /// the loop, never inside this call). Calls due at the same time run in the order they
  /// were scheduled.
  /// @throws std::invalid_argument if delaySeconds is negative or not a number.
  virtual DelayedCall callLater(double delaySeconds, std::function<void()> fn) = 0;

  /// The calls that are still scheduled, soonest first.
  virtual std::vector<DelayedCall> getDelayedCalls() const = 0;
};

}  // namespace torsion
