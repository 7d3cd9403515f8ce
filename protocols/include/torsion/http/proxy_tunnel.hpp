// Public. connectThroughProxy: a connection to a server through an HTTP proxy's CONNECT
// tunnel, for any protocol (the HTTP client uses it for https through a proxy).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/http/connect_function.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/transport.hpp>

#include <cstddef>
#include <memory>

namespace torsion::http {

/// The most bytes a proxy's answer to CONNECT may take (status line and header fields):
/// more fails the tunnel with ProxyConnectError.
inline constexpr std::size_t maxProxyAnswerBytes = 16 * 1024;

/// Opens a TCP connection to the proxy `key.tunnel` names, asks it for a tunnel with
/// `CONNECT host:port HTTP/1.1` (Host, and Proxy-Authorization when the tunnel has an
/// authorization), reads its answer with the response parser (capped at
/// maxProxyAnswerBytes), and on a 2xx makes `factory`'s protocol the protocol of that
/// same connection: from then on it talks to `key.host:key.port` through the proxy, with
/// connectionMade called as on a direct connection. So a TLS factory
/// (torsion::tls::wrapClientFactory) verifies the *target's* certificate and host name,
/// never the proxy's: this is how tlsConnect opens https through a proxy.
///
/// The factory sees the tunnel as one connection attempt through the returned
/// Connector: `startedConnecting`, then either `buildProtocol` (the tunnel is open) or
/// `clientConnectionFailed` with the connect error of the proxy's connection, with
/// ProxyConnectError (a non-2xx answer naming the status, an answer that is not HTTP or
/// too large, or the proxy closing first; that connection is closed) or with
/// ConnectingCancelledError; later `clientConnectionLost`. The Connector reports
/// `connecting` until the tunnel is open, and stopConnecting ends the attempt in either
/// step. Its getDestination is the proxy's address.
///
/// @code
/// torsion::http::ConnectionKey key{"https", "example.org", 443, torsion::http::TunnelProxy{"127.0.0.1", 3128}};
/// auto connector = torsion::http::connectThroughProxy(
///     reactor, key, torsion::tls::wrapClientFactory(torsion::tls::optionsForClientTLS("example.org"), factory), 30);
/// @endcode
///
/// Thread safety: the reactor's thread only.
/// @param reactor connects to the proxy.
/// @param key the target (host, port) and the proxy (`tunnel`, which must be set).
/// @param factory builds the protocol that talks to the target.
/// @param timeout seconds for the TCP connection to the proxy (the caller bounds the rest
///        with stopConnecting, as HTTPConnectionPool's connect timeout does).
/// @return the attempt; its state is `connected` once the tunnel is open.
/// @throws std::invalid_argument when `key.tunnel` is not set; InvalidHeaderError when the
///         target or the authorization cannot be written in a request head.
std::shared_ptr<Connector> connectThroughProxy(IReactorTCP& reactor, const ConnectionKey& key,
                                               std::shared_ptr<ClientFactory> factory, double timeout);

}  // namespace torsion::http
