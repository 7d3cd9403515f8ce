// Internal. How transports set a Protocol's connection state.
#pragma once

#include <torsion/protocol.hpp>

#include <memory>
#include <utility>

namespace torsion::detail {

struct ProtocolAccess {
  /// `protocol` as a HalfCloseableProtocol, or nullptr: a flag read, not a dynamic_cast.
  static HalfCloseableProtocol* halfCloseable(Protocol& protocol) noexcept {
    return protocol.halfCloseable_ ? static_cast<HalfCloseableProtocol*>(&protocol) : nullptr;
  }

  /// Points a connected protocol at another transport without calling connectionMade:
  /// its later writes go to `transport` (a wrapper inserted under it on a live
  /// connection, ProtocolWrapper::wrapConnected).
  static void setTransport(Protocol& protocol, std::shared_ptr<Transport> transport) noexcept {
    protocol.transport_ = std::move(transport);
  }

  /// Before connectionLost: connected() becomes false.
  static void markDisconnected(Protocol& protocol) noexcept { protocol.connected_ = false; }

  /// After connectionLost has returned (or thrown): the protocol's timers are cancelled
  /// and its whileConnected callbacks disarmed. Every transport calls it.
  static void connectionEnded(Protocol& protocol) noexcept { protocol.lifetime_.end(); }

  /// Tells `protocol` its connection is gone, in the one order every transport (and
  /// ProtocolWrapper) uses: connected() becomes false, connectionLost runs,
  /// then its lifetime ends, even when connectionLost throws (the exception goes on to
  /// the caller, which reports it).
  static void deliverConnectionLost(Protocol& protocol, const Failure& reason) {
    markDisconnected(protocol);
    struct EndAfter {
      Protocol& protocol;
      ~EndAfter() { connectionEnded(protocol); }
    } endAfter{protocol};
    protocol.connectionLost(reason);
  }
};

}  // namespace torsion::detail
