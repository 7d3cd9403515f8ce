// Public. Factory and ClientFactory: what makes Protocols for new connections.
#pragma once

#include <torsion/address.hpp>
#include <torsion/failure.hpp>
#include <torsion/protocol.hpp>

#include <functional>
#include <memory>
#include <tuple>
#include <utility>

namespace torsion {

class Connector;

/// Builds a Protocol for each connection (Twisted's Factory). Either set `protocol`
/// (or use forProtocol), or override buildProtocol. Factories are always held by
/// std::shared_ptr; a listening port keeps its factory alive.
///
/// @code
/// auto factory = torsion::Factory::forProtocol<Echo>();
/// reactor.listenTCP(8000, factory);
/// @endcode
class Factory : public std::enable_shared_from_this<Factory> {
 public:
  virtual ~Factory() = default;

  /// Makes one protocol instance; what the default buildProtocol calls.
  std::function<std::shared_ptr<Protocol>()> protocol;

  /// Makes the protocol for a connection from `address`, sets its `factory`, and
  /// returns it. Returning nullptr refuses the connection: it is closed at once.
  /// @throws std::logic_error if `protocol` is unset and buildProtocol not overridden.
  virtual std::shared_ptr<Protocol> buildProtocol(const Address& address);

  /// Called once before the first port or connector starts using this factory.
  virtual void startFactory() {}

  /// Called once after the last port or connector stops using this factory.
  virtual void stopFactory() {}

  /// Counts one more user; calls startFactory on the first. Called by ports and
  /// connectors.
  void doStart();

  /// Counts one user fewer; calls stopFactory on the last. Called by ports and
  /// connectors.
  void doStop();

  /// How many ports and connectors are using this factory now.
  int numPorts() const noexcept { return numPorts_; }

  /// A factory whose protocols are `P(args...)`; the arguments are copied into the
  /// factory and passed to every new protocol.
  template <class P, class... Args>
  static std::shared_ptr<Factory> forProtocol(Args&&... args) {
    auto factory = std::make_shared<Factory>();
    factory->protocol = makeProtocolMaker<P>(std::forward<Args>(args)...);
    return factory;
  }

 protected:
  /// A function that constructs `P` from copies of `args`.
  template <class P, class... Args>
  static std::function<std::shared_ptr<Protocol>()> makeProtocolMaker(Args&&... args) {
    static_assert(std::is_base_of_v<Protocol, P>, "forProtocol<P>: P must derive from torsion::Protocol");
    return [saved = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() {
      return std::apply([](const auto&... a) { return std::shared_ptr<Protocol>(std::make_shared<P>(a...)); },
                        saved);
    };
  }

 private:
  int numPorts_ = 0;
};

/// A factory for outgoing connections (Twisted's ClientFactory), told how each
/// attempt went.
class ClientFactory : public Factory {
 public:
  /// A connection attempt has started.
  virtual void startedConnecting(Connector& connector) { (void)connector; }

  /// The attempt failed: `reason` is ConnectionRefusedError, TimeoutError,
  /// DNSLookupError, ConnectingCancelledError or another ConnectError.
  virtual void clientConnectionFailed(Connector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }

  /// An established connection was lost (after the protocol's connectionLost).
  virtual void clientConnectionLost(Connector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }

  /// A client factory whose protocols are `P(args...)`.
  template <class P, class... Args>
  static std::shared_ptr<ClientFactory> forProtocol(Args&&... args) {
    auto factory = std::make_shared<ClientFactory>();
    factory->protocol = makeProtocolMaker<P>(std::forward<Args>(args)...);
    return factory;
  }
};

}  // namespace torsion
