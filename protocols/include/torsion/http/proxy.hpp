// Public. ProxyConfig: an HTTP proxy and the hosts that bypass it, from options or from
// the http_proxy and no_proxy environment variables.
#pragma once

#include <torsion/http/url.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::http {

/// An HTTP proxy (Twisted's `ProxyAgent`, and CONNECT tunnels as curl makes them): an
/// `http://` request goes to the proxy with an absolute-form request line; for an
/// `https://` request the Agent asks the proxy to `CONNECT host:port`, then speaks TLS to
/// the server through that tunnel (verifying the server's certificate and host name, not
/// the proxy's) and sends the request in origin form. `schemes` says which URLs use it.
///
/// `noProxy` follows the common `no_proxy` convention: a list of host names, each
/// matching that host and its subdomains (a leading dot is ignored), optionally with
/// `:port`; IP addresses match exactly; `*` matches every host.
///
/// @code
/// torsion::http::AgentOptions options;
/// options.proxy = torsion::http::ProxyConfig{"127.0.0.1", 3128, {"localhost", ".internal"}};
/// // or, for http:// only: options.proxy = torsion::http::ProxyConfig::fromEnvironment();
/// @endcode
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ProxyConfig {
  std::string host;                  ///< the proxy's host name or address
  std::uint16_t port = 8080;         ///< the proxy's port
  std::vector<std::string> noProxy;  ///< hosts reached directly (see the class)
  /// The URL schemes sent through the proxy: "http" (absolute form), "https" (CONNECT).
  std::vector<std::string> schemes{"http", "https"};
  /// The `Proxy-Authorization` value sent to the proxy with each CONNECT (such as
  /// "Basic dXNlcjpwYXNz"), or empty for none. A tunnel is never shared between two
  /// authorizations. (For http:// through the proxy, give the header with the request.)
  std::string authorization;

  /// True when a request to `url` goes through the proxy: its scheme is one of
  /// `schemes` and its host is not in noProxy.
  /// @param url the request's URL.
  bool appliesTo(const Url& url) const;

  /// Parses a `no_proxy` value: comma- or space-separated entries.
  /// @param value such as "localhost,.example.com,10.0.0.1".
  static std::vector<std::string> parseNoProxy(std::string_view value);

  /// The proxy named by `http_proxy`, with `no_proxy` (else `NO_PROXY`), or nullopt when
  /// none is set; as curl does with that variable, it applies to http:// URLs only
  /// (`schemes` is {"http"}: add "https" to tunnel https through it too). Only the lower-case `http_proxy` is read, as
  /// curl does: in a CGI program `HTTP_PROXY` comes from a request's `Proxy:` header ("httpoxy"). The variable holds an
  /// http URL (`http://host:port`); a bare `host:port` is accepted too.
  /// @throws InvalidUrlError when http_proxy is set but is not a valid http URL.
  static std::optional<ProxyConfig> fromEnvironment();

  /// Same as fromEnvironment, from given values (what tests use).
  /// @param httpProxy the value of http_proxy (empty: no proxy).
  /// @param noProxy the value of no_proxy.
  /// @throws InvalidUrlError when httpProxy is not a valid http URL.
  static std::optional<ProxyConfig> fromValues(std::string_view httpProxy, std::string_view noProxy);
};

}  // namespace torsion::http
