// Internal. LoopDriver: the few loop operations a backend driven by an outside loop
// (Asio on a user's io_context) needs from the reactor: start, one pass, when the next
// pass is due, stop. It is all such a backend sees of the reactor, so no backend can
// reach its transports, handles or queues.
#pragma once

namespace torsion::detail {

class LoopDriver {
 public:
  /// True while the reactor runs and no stop was requested.
  virtual bool running() const noexcept = 0;
  /// A stop was requested and the reactor has not finished running yet.
  virtual bool stopRequested() const noexcept = 0;
  /// Requests a stop, as Reactor::stop.
  virtual void stop() = 0;

  /// Reactor::run without its loop: fires "startup"; the driver then runs the passes.
  virtual void startRunning(bool installSignalHandlers) = 0;
  /// One pass of the loop (Reactor::iterate(0)): thread calls, due timers, then the
  /// backend's wait with a zero timeout, dispatch and the deferred calls.
  virtual void runPass() = 0;
  /// The end of Reactor::run: fires "shutdown", runs the last pass, stops running.
  virtual void finishRunning() = 0;

  /// When the next pass is due: 0 now, -1 never (nothing but I/O can need one). Not
  /// const: learning the soonest timer may sort a timer-wheel slot into its heap.
  virtual int passTimeoutMs() = 0;
  /// From now on, scheduling a timer that becomes the soonest calls Backend::wakeUp, so
  /// the driver can move its own timer earlier.
  virtual void wakeBackendOnEarlierTimers() = 0;

 protected:
  ~LoopDriver() = default;  // not owned through this interface
};

}  // namespace torsion::detail
