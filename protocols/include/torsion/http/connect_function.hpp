// Public. ConnectFunction: the one place where the HTTP client opens a connection to a
// (scheme, host, port) — the extension point for https (Twisted's IAgentEndpointFactory).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace torsion::http {

/// An HTTP proxy that a connection reaches its server through, with a CONNECT tunnel
/// (https through a proxy): part of a ConnectionKey.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct TunnelProxy {
  std::string host;           ///< the proxy's host name or address
  std::uint16_t port = 0;     ///< the proxy's port
  std::string authorization;  ///< the Proxy-Authorization value sent with CONNECT, or empty

  /// No proxy yet (an empty host).
  TunnelProxy() = default;
  /// The proxy at `proxyHost`:`proxyPort`, sending `proxyAuthorization` (if not empty).
  TunnelProxy(std::string proxyHost, std::uint16_t proxyPort, std::string proxyAuthorization = {})
      : host(std::move(proxyHost)), port(proxyPort), authorization(std::move(proxyAuthorization)) {}

  /// Equal when host, port and authorization are.
  friend bool operator==(const TunnelProxy& a, const TunnelProxy& b) = default;
  /// Ordered by host, port, authorization (part of a map key).
  friend auto operator<=>(const TunnelProxy& a, const TunnelProxy& b) = default;
};

/// Where a connection goes: the key of HTTPConnectionPool's persistent connections.
///
/// A request through a proxy in absolute form (http) has the proxy's scheme, host and
/// port and no tunnel; a tunnelled one (https) has the target's scheme, host and port and
/// the proxy in `tunnel`, so tunnels to different servers (or through different
/// proxies) are never mixed up, nor with direct connections.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ConnectionKey {
  std::string scheme;                 ///< "http" or "https" (of the server, or of the proxy for absolute form)
  std::string host;                   ///< host name or address, as in Url::host()
  std::uint16_t port = 0;             ///< the TCP port
  std::optional<TunnelProxy> tunnel;  ///< set: reach host:port through this proxy's CONNECT

  /// An empty key.
  ConnectionKey() = default;
  /// A key for `keyScheme`://`keyHost`:`keyPort`, through `through` if given.
  ConnectionKey(std::string keyScheme, std::string keyHost, std::uint16_t keyPort,
                std::optional<TunnelProxy> through = std::nullopt)
      : scheme(std::move(keyScheme)), host(std::move(keyHost)), port(keyPort), tunnel(std::move(through)) {}

  /// Equal when scheme, host, port and tunnel are.
  friend bool operator==(const ConnectionKey& a, const ConnectionKey& b) = default;
  /// Ordered by scheme, host, port, tunnel (a map key).
  friend auto operator<=>(const ConnectionKey& a, const ConnectionKey& b) = default;
};

/// Opens a connection for the HTTP client: given the reactor, where to go, the factory
/// that builds the HTTP protocol and the connect timeout, starts connecting and returns
/// the Connector (the pool calls its stopConnecting to give up). It may throw to refuse
/// at once (the request then fails with that exception, before anything is sent).
///
/// https plugs in here: tlsConnect (the Agent's default) wraps `factory` in a TLS
/// factory for scheme "https" and connects that (SNI and verification from `key.host`).
/// A key with a `tunnel` must be connected through that proxy: connectThroughProxy
/// (proxy_tunnel.hpp) does it for any factory.
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

/// A ConnectFunction without TLS: connectTCP for "http" (connectThroughProxy when the key
/// has a tunnel); for "https" throws
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
