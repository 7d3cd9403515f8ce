// Public. Echo: sends back every byte it receives (RFC 862).
#pragma once

#include <torsion/protocol.hpp>

namespace torsion::protocols {

/// Writes back everything it receives, as Twisted's `protocols.wire.Echo`.
///
/// @code
/// reactor.listenTCP(7, torsion::Factory::forProtocol<torsion::protocols::Echo>());
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class Echo : public Protocol {
 public:
  /// Writes `data` straight back to the peer.
  void dataReceived(Bytes data) override;
};

}  // namespace torsion::protocols
