// Public. ConnectFunction: the one place where the HTTP client opens a connection to a
// (scheme, host, port) — the extension point for https (Twisted's IAgentEndpointFactory).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace torsion::http {

/// Where a connection goes: the key of HTTPConnectionPool's persistent connections.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ConnectionKey {
  std::string scheme;      ///< "http" or "https" (of the server, or of the proxy when proxied)
  std::string host;        ///< host name or address, as in Url::host()
  std::uint16_t port = 0;  ///< the TCP port

  /// Equal when scheme, host and port are.
  friend bool operator==(const ConnectionKey& a, const ConnectionKey& b) = default;
  /// Ordered by scheme, host, port (a map key).
  friend auto operator<=>(const ConnectionKey& a, const ConnectionKey& b) = default;
};

/// Opens a connection for the HTTP client: given the reactor, where to go, the factory
/// that builds the HTTP protocol and the connect timeout, starts connecting and returns
/// the Connector (the pool calls its stopConnecting to give up). It may throw to refuse
/// at once (the request then fails with that exception, before anything is sent).
///
/// https plugs in here: tlsConnect (the Agent's default) wraps `factory` in a TLS
/// factory for scheme "https" and connects that (SNI and verification from `key.host`).
///
/// @code
/// options.connect = [](torsion::IReactorTCP& reactor, const torsion::http::ConnectionKey& key,
///                      std::shared_ptr<torsion::ClientFactory> factory, double timeout) {
///   if (key.scheme == "https") return reactor.connectTCP(key.host, key.port, myTls(key, factory), timeout);
///   return torsion::http::plainConnect(reactor, key, std::move(factory), timeout);
/// };
/// @endcode
using ConnectFunction = std::function<std::shared_ptr<Connector>(
    IReactorTCP& reactor, const ConnectionKey& key, std::shared_ptr<ClientFactory> factory, double timeout)>;

/// A ConnectFunction without TLS: connectTCP for "http"; for "https" throws
/// TlsUnavailableError, so nothing is ever sent in plain text to an https URL. The pool
/// uses it when given no ConnectFunction; Agent defaults to tlsConnect instead.
/// @param reactor connects.
/// @param key where to.
/// @param factory builds the protocol.
/// @param timeout the connect timeout, in seconds.
/// @throws TlsUnavailableError for "https"; UnsupportedSchemeError for anything else.
std::shared_ptr<Connector> plainConnect(IReactorTCP& reactor, const ConnectionKey& key,
                                        std::shared_ptr<ClientFactory> factory, double timeout);

}  // namespace torsion::http
