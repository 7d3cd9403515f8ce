// Public. ProtocolWrapping: what a protocol that stands between a transport and another
// protocol (TLS, the endpoints' wrapper) needs to treat the inner protocol as a transport
// would.
#pragma once

#include <torsion/failure.hpp>
#include <torsion/protocol.hpp>
#include <torsion/transport.hpp>

#include <memory>

namespace torsion {

/// The few things a wrapping protocol (one that is itself the Transport of an inner
/// protocol, as Twisted's ProtocolWrapper and TLSMemoryBIOProtocol are) must do to its
/// inner protocol that only a transport may otherwise do. Nothing here knows about TLS.
///
/// Thread safety: use only on the thread that runs the connection's reactor.
struct ProtocolWrapping {
  /// Tells `inner` its connection is gone as every transport does: connected() becomes
  /// false, connectionLost(reason) runs, then the inner protocol's timers and
  /// whileConnected callbacks are ended (even if connectionLost throws; the exception
  /// goes on to the caller).
  static void deliverConnectionLost(Protocol& inner, const Failure& reason);

  /// Points a connected protocol at another transport without calling connectionMade:
  /// its later writes go to `transport`.
  static void setTransport(Protocol& inner, std::shared_ptr<Transport> transport);

  /// Inserts `wrapper` between the connected protocol `inner` and its transport on a
  /// live connection (what startTLS does): the transport delivers to `wrapper` from now
  /// on and `inner` writes to `wrapperTransport` (normally the wrapper itself). No hook
  /// runs: the caller keeps the returned reference in the wrapper and then calls
  /// `wrapper->makeConnection(transport)` with the transport `inner` had, so that the
  /// wrapper's connectionMade can start its work. Bytes `inner` wrote before stay queued
  /// in the transport and go first.
  /// @return the transport's reference to `inner`, which the wrapper must keep.
  /// @throws std::logic_error as Transport::replaceProtocol (nothing is changed then).
  static std::shared_ptr<Protocol> insertWrapper(Protocol& inner, const std::shared_ptr<Protocol>& wrapper,
                                                 std::shared_ptr<Transport> wrapperTransport);
};

}  // namespace torsion
