// Public. LimitTotalConnectionsFactory and LimitConnectionsByPeer: connection-count policies.
#pragma once

#include <torsion/protocols/protocol_wrapper.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace torsion::protocols {

/// Refuses connections beyond a total (Twisted's LimitTotalConnectionsFactory): while
/// `connectionLimit` connections are live, a new one gets the overflow protocol if one
/// is set (to say "busy" and close, say), else it is refused and closed at once. The
/// overflow connections count too, as in Twisted.
///
/// @code
/// auto limited = std::make_shared<torsion::protocols::LimitTotalConnectionsFactory>(
///     torsion::Factory::forProtocol<Echo>(), 1000);
/// reactor.listenTCP(8000, limited);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class LimitTotalConnectionsFactory : public WrappingFactory {
 public:
  /// Wraps `wrapped`, allowing at most `connectionLimit` live connections.
  /// @throws std::invalid_argument if `wrapped` is null.
  LimitTotalConnectionsFactory(std::shared_ptr<Factory> wrapped, std::size_t connectionLimit);

  /// Builds the wrapped factory's protocol below the limit, the overflow protocol (or
  /// nullptr, a refusal) at or above it.
  std::shared_ptr<Protocol> buildProtocol(const Address& address) override;

  /// The most live connections allowed.
  std::size_t connectionLimit;

  /// Makes the protocol for a connection over the limit; empty (the default) refuses it.
  std::function<std::shared_ptr<Protocol>()> overflowProtocol;
};

/// Refuses a peer's connections beyond a number per host (Twisted's
/// LimitConnectionsByPeer): the peer is its address without the port.
///
/// Thread safety: use only on the thread that runs its reactor.
class LimitConnectionsByPeer : public WrappingFactory {
 public:
  /// Wraps `wrapped`, allowing `maxConnectionsPerPeer` live connections per host (5 by
  /// default, as in Twisted).
  /// @throws std::invalid_argument if `wrapped` is null.
  explicit LimitConnectionsByPeer(std::shared_ptr<Factory> wrapped, std::size_t maxConnectionsPerPeer = 5);

  /// Refuses (nullptr) a connection from a host that already has the maximum.
  std::shared_ptr<Protocol> buildProtocol(const Address& address) override;

  /// Counts the connection against its peer's host.
  void registerProtocol(ProtocolWrapper& wrapper) override;

  /// Frees the connection's place.
  void unregisterProtocol(ProtocolWrapper& wrapper) override;

  /// Live connections from `host` (numeric text, or a Unix socket path).
  std::size_t connectionsFrom(const std::string& host) const;

  /// The most live connections allowed per host.
  std::size_t maxConnectionsPerPeer;

 private:
  std::map<std::string, std::size_t> perPeer_;
  std::map<const ProtocolWrapper*, std::string> hostOf_;  // as counted, in case getPeer changes
};

}  // namespace torsion::protocols
