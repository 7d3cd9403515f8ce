// Internal. What the framing receivers share: when to stop delivering, how to refuse input.
#pragma once

#include <torsion/protocol.hpp>

#include <string_view>

namespace torsion::protocols::detail {

/// True once the connection is closing or gone. Messages that follow the one whose
/// callback closed the connection are not delivered (as Twisted's LineReceiver does):
/// a peer must not get work done after a request that ended the conversation.
inline bool deliveryStopped(const Protocol& protocol) {
  const auto& transport = protocol.transportPtr();
  return transport && (transport->disconnecting() || !transport->connected());
}

/// Logs why `receiver` refuses the peer's input, naming the peer, and closes the
/// connection (if there is one).
void refuseInput(Protocol& protocol, std::string_view receiver, std::string_view reason);

}  // namespace torsion::protocols::detail
