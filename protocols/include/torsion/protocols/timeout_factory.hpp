// Public. TimeoutFactory: closes the wrapped factory's connections after a quiet period.
#pragma once

#include <torsion/protocols/protocol_wrapper.hpp>

#include <memory>

namespace torsion::protocols {

/// Closes every connection of the factory it wraps once nothing was read or written for
/// `timeoutPeriod` seconds (Twisted's TimeoutFactory and TimeoutProtocol), without
/// changing the protocol: the wrapper resets the timer on every dataReceived and every
/// write, and calls loseConnection on the real transport when it fires. Use
/// TimeoutMixin instead when the protocol should decide what counts as activity.
///
/// Thread safety: use only on the thread that runs its reactor.
class TimeoutFactory : public WrappingFactory {
 public:
  /// Wraps `wrapped` with an idle timeout of `timeoutPeriod` seconds (Twisted's default
  /// is 30 minutes).
  /// @throws std::invalid_argument if `wrapped` is null or `timeoutPeriod` is not positive.
  TimeoutFactory(std::shared_ptr<Factory> wrapped, double timeoutPeriod = 30 * 60);

  /// The idle time, in seconds, after which a connection is closed.
  double timeoutPeriod;

 protected:
  /// Wraps in a wrapper that keeps the timer.
  std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped) override;
};

}  // namespace torsion::protocols
