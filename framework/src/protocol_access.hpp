// Internal. How transports set a Protocol's connection state.
#pragma once

#include <torsion/protocol.hpp>

namespace torsion::detail {

struct ProtocolAccess {
  static void markDisconnected(Protocol& protocol) noexcept { protocol.connected_ = false; }
};

}  // namespace torsion::detail
