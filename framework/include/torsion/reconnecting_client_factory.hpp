// Public. ReconnectingClientFactory: a ClientFactory that reconnects with exponential back-off.
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>

namespace torsion {

/// A ClientFactory that connects again whenever a connection attempt fails or an
/// established connection is lost, waiting longer after each failure (Twisted's
/// `ReconnectingClientFactory`, with the same parameters and defaults).
///
/// After the n-th consecutive failure the wait is about initialDelay * factor^n,
/// capped at maxDelay, and spread by a normal distribution of relative width jitter so
/// that many clients cut off together do not all come back at the same instant. Call
/// resetDelay() once a connection succeeds (typically from the protocol's
/// connectionMade), or the next failure waits as long as if it had not.
///
/// **The clock.** Waits are scheduled on `clock`, which must be set before the first
/// failure: usually to the reactor that connects, or in tests to a testing::Clock or a
/// testing::MemoryReactorClock, which is both the reactor and the clock. (Twisted falls
/// back on its global reactor; torsion has none, and a Connector does not reveal its
/// reactor.) The clock must outlive the factory's scheduled retries.
/// A failure with no clock set throws std::logic_error from the failure callback.
///
/// Thread-safety: use a factory on its reactor's thread only.
///
/// @code
/// class Client : public torsion::Protocol {
///   void connectionMade() override {
///     std::static_pointer_cast<torsion::ReconnectingClientFactory>(factory)->resetDelay();
///   }
/// };
/// auto factory = torsion::ReconnectingClientFactory::forProtocol<Client>(reactor);
/// factory->maxDelay = 60;
/// reactor.connectTCP("example.com", 8000, factory);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class ReconnectingClientFactory : public ClientFactory {
 public:
  /// A factory scheduling its retries on `clock` (which may also be set later through
  /// the `clock` member).
  explicit ReconnectingClientFactory(IReactorTime* clock = nullptr);

  /// Longest wait between attempts, in seconds (before jitter); 3600 by default.
  double maxDelay = 3600;

  /// The wait that the first retry multiplies by `factor`, in seconds; 1 by default.
  double initialDelay = 1.0;

  /// How much longer each wait is than the last; e (2.718...) by default.
  double factor = 2.7182818284590451;

  /// The standard deviation of each wait, relative to it; 0.1196... by default. 0 makes
  /// the waits exact. A wait that jitter would make negative becomes 0.
  double jitter = 0.119626565582;

  /// The wait chosen for the latest retry (initialDelay before any).
  double delay = initialDelay;

  /// Consecutive retries so far (reset by resetDelay).
  int retries = 0;

  /// The number of consecutive retries after which the factory gives up; no limit if
  /// empty (the default).
  std::optional<int> maxRetries;

  /// False once stopTrying was called; resetDelay sets it again.
  bool continueTrying = true;

  /// Where retries are scheduled; see the class description. Not owned.
  IReactorTime* clock = nullptr;

  /// The connector of the latest failure or loss (not owned: the scheduled retry holds
  /// it until it runs).
  std::weak_ptr<Connector> connector;

  /// Retries `connector`, unless stopTrying was called.
  void clientConnectionFailed(Connector& connector, const Failure& reason) override;

  /// Retries `connector`, unless stopTrying was called.
  void clientConnectionLost(Connector& connector, const Failure& reason) override;

  /// Schedules `target`.connect() after the next wait, or gives up (logged) if
  /// stopTrying was called or maxRetries is reached.
  /// @throws std::logic_error if `clock` is not set.
  void retry(Connector& target);

  /// Retries the connector of the latest failure or loss.
  /// @throws std::logic_error if there is none (or it is gone), or if `clock` is not set.
  void retry();

  /// Stops for good: cancels a scheduled retry, stops the current connector if it is
  /// connecting, and retries no more when the current connection is lost.
  void stopTrying();

  /// Call after a successful connection: the next wait starts again from initialDelay,
  /// the retry count from 0, and stopTrying is undone.
  void resetDelay();

  /// The retry scheduled now, or an inactive handle.
  const DelayedCall& pendingRetry() const noexcept { return callID_; }

  /// Seeds the random generator of the jitter, so that a test gets the same waits
  /// every run.
  void seed(std::uint64_t value) { random_.seed(value); }

  /// A reconnecting factory scheduling on `clock`, whose protocols are `P(args...)`.
  template <class P, class... Args>
  static std::shared_ptr<ReconnectingClientFactory> forProtocol(IReactorTime& clock, Args&&... args) {
    auto factory = std::make_shared<ReconnectingClientFactory>(&clock);
    factory->protocol = makeProtocolMaker<P>(std::forward<Args>(args)...);
    return factory;
  }

 private:
  DelayedCall callID_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace torsion
