// Internal. How transports set a Protocol's connection state.
#pragma once

#include <torsion/protocol.hpp>

namespace torsion::detail {

struct ProtocolAccess {
  /// Before connectionLost: connected() becomes false.
  static void markDisconnected(Protocol& protocol) noexcept { protocol.connected_ = false; }

  /// After connectionLost has returned (or thrown): the protocol's timers are cancelled
  /// and its whileConnected callbacks disarmed. Every transport calls it.
  static void connectionEnded(Protocol& protocol) noexcept { protocol.lifetime_.end(); }
};

}  // namespace torsion::detail
