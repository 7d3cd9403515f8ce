// Public. TimeoutMixin: an idle timeout any protocol can carry (Twisted's policies.TimeoutMixin).
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/protocol.hpp>

namespace torsion::protocols {

/// Adds a per-connection timeout to the protocol `Base` (Twisted's TimeoutMixin): after
/// setTimeout(seconds), timeoutConnection() runs unless resetTimeout() is called within
/// that time. The timer is a Protocol::callLater, so it dies with the connection: it is
/// cancelled when connectionLost has returned, and a timer can never reach a destroyed
/// protocol.
///
/// Where to call resetTimeout decides what the timeout measures. From dataReceived it
/// is an idle timeout (any byte counts). From a message hook (lineReceived,
/// stringReceived) only whole messages count, so a peer trickling one byte at a time
/// (slowloris) is still cut.
///
/// @code
/// class Session : public torsion::protocols::TimeoutMixin<torsion::protocols::LineReceiver> {
///   void connectionMade() override { setTimeout(30); }
///   void lineReceived(torsion::Bytes line) override {
///     resetTimeout();          // a complete line is progress; single bytes are not
///     sendLine(line);
///   }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
template <class Base = Protocol>
class TimeoutMixin : public Base {
 public:
  using Base::Base;

  /// Sets the timeout to `seconds` from now (0 or less: no timeout) and returns the
  /// previous setting (0 if there was none). A timer already pending is replaced. Takes
  /// effect only while connected (from connectionMade on): before, the period is kept
  /// and the timer starts at the next setTimeout or resetTimeout after connectionMade.
  /// @throws std::logic_error if the transport has no clock (see Protocol::clock).
  double setTimeout(double seconds) {
    const double previous = period_;
    period_ = seconds > 0 ? seconds : 0;
    cancelTimer();
    resetTimeout();
    return previous;
  }

  /// Starts the current timeout period again from now; does nothing with no timeout
  /// set or when not connected.
  /// @throws std::logic_error if the transport has no clock (see Protocol::clock).
  void resetTimeout() {
    if (period_ <= 0 || !this->connected()) return;
    if (timer_.active()) {
      timer_.reset(period_);
      return;
    }
    timer_ = this->callLater(period_, [this] {
      timer_ = DelayedCall();
      timeoutConnection();
    });
  }

  /// Removes the timeout: no timer is pending afterwards. Same as setTimeout(0).
  void cancelTimeout() {
    period_ = 0;
    cancelTimer();
  }

  /// The timeout period in seconds (0: none).
  double timeoutPeriod() const noexcept { return period_; }

 protected:
  /// Called when the timeout passes without a resetTimeout. The default closes the
  /// connection once its queue has drained (loseConnection), as Twisted's does; override
  /// it to do something else (send a goodbye first, or abortConnection).
  virtual void timeoutConnection() { this->transport().loseConnection(); }

 private:
  void cancelTimer() {
    cancelIfActive(timer_);
    timer_ = DelayedCall();
  }

  double period_ = 0;
  DelayedCall timer_;
};

}  // namespace torsion::protocols
