// Public. Agent: HTTP/1.1 requests over a connection pool, with timeouts, redirects,
// gzip decoding and an HTTP proxy (Twisted's Agent, RedirectAgent, ContentDecoderAgent
// and ProxyAgent as options of one object).
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/http/body_producer.hpp>
#include <torsion/http/connect_function.hpp>
#include <torsion/http/connection_pool.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/proxy.hpp>
#include <torsion/http/response.hpp>
#include <torsion/http/tls_connect.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/tls/options.hpp>

#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

namespace torsion::http {

/// How an Agent makes requests.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct AgentOptions {
  /// Seconds to wait for a new connection; then the request fails with TimeoutError.
  double connectTimeout = 30;
  /// Seconds for the whole request, from request() to the end of the final response's
  /// body (redirects, queueing and connecting included); 0 for no limit. On expiry the
  /// request (or its body) fails with TimeoutError and the connection is closed.
  double requestTimeout = 0;
  /// Follow redirects (301, 302, 303, 307, 308) up to redirectLimit (Twisted's
  /// `RedirectAgent`, browser-like for 301/302 after a POST: see Agent).
  bool followRedirects = true;
  /// The most redirects followed for one request: one more fails with RedirectLimitError.
  int redirectLimit = 20;
  /// Send `Accept-Encoding: gzip, deflate` and decode such bodies (Twisted's
  /// `ContentDecoderAgent`); the response then has no Content-Encoding and no length.
  bool decompress = false;
  /// The cap on a decoded body: ResponseTooLargeError past it (a zip bomb stops here).
  std::uint64_t maxDecodedBytes = 1ull << 30;
  /// The HTTP proxy for http:// URLs, or nullopt for direct connections (see
  /// ProxyConfig::fromEnvironment for `http_proxy`/`no_proxy`).
  std::optional<ProxyConfig> proxy;
  /// The roots an https server's certificate must chain to, for the default `connect`:
  /// the system's trust store, or `torsion::tls::TrustRoot::fromCAFile("ca.pem")`.
  tls::TrustRoot trustRoot = tls::platformTrust();
  /// Opens connections; when empty, `tlsConnect(trustRoot)`: verified TLS for https,
  /// plain TCP for http. Set it to plainConnect to refuse https (TlsUnavailableError).
  ConnectFunction connect;
};

/// Makes HTTP/1.1 requests (Twisted's `Agent`) and hands back each response as its head
/// arrives; the body follows through Response::deliverBody, or whole through readBody.
///
/// - Connections come from an HTTPConnectionPool (its own unless one is given): kept
///   alive, capped per host with a FIFO queue beyond the cap. A request that meets a
///   kept-alive connection the server had closed (ResponseNeverReceivedError on a
///   reused connection) is sent once more on a fresh connection if its method is
///   idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE), never for POST or PATCH.
/// - Redirects (when followRedirects): 303 turns any method but HEAD into GET without a
///   body; 301 and 302 turn POST into GET without a body (as browsers do: Twisted's
///   `BrowserLikeRedirectAgent`) and keep other methods; 307 and 308 keep the method and
///   the body. Authorization, Cookie and Proxy-Authorization are dropped when the target's
///   origin (scheme, host, port) differs. A redirect to a URL already visited with the
///   same method is a RedirectLoopError, to another scheme an UnsupportedSchemeError,
///   more than redirectLimit a RedirectLimitError. The redirects followed are in
///   Response::history.
/// - Errors that need no connection fail the Deferred at once: an invalid URL or method,
///   https through a ConnectFunction without TLS such as plainConnect (TlsUnavailableError).
/// - https is verified TLS by default (tlsConnect with AgentOptions::trustRoot): a
///   certificate that does not verify fails the request with a torsion::tls::TLSError
///   naming the cause, before any request byte is sent.
/// - Cancelling the Deferred aborts the request: it leaves the queue, stops connecting,
///   or closes the connection (never reused).
///
/// Lifetimes: the Agent may be destroyed with requests in flight: they go on and fire
/// their Deferreds (they keep what they need alive). Destroying the reactor ends the
/// requests in flight (their connections are lost, their Deferreds fail); after that the
/// Agent may only be destroyed.
///
/// @code
/// torsion::http::Agent agent(reactor);
/// torsion::http::Headers headers;
/// headers.add("Content-Type", "application/json");
/// auto page = co_await agent.request("POST", "http://127.0.0.1:8080/api", headers,
///                                    std::make_shared<torsion::http::StringBodyProducer>("{}"))
///                 .addCallback(torsion::http::readBody);
/// fmt::print("{} {}\n", page.code, page.body);
/// @endcode
///
/// Thread safety: the reactor's thread only.
class Agent {
 public:
  /// An Agent on `reactor` (a torsion::Reactor or testing::MemoryReactorClock).
  /// @param reactor connects and runs the timers.
  /// @param pool the pool to use, or nullptr for a pool of the Agent's own.
  /// @param options timeouts, redirects, decoding, proxy, connect function.
  template <class R>
  requires std::derived_from<R, IReactorTCP> && std::derived_from<R, IReactorTime>
  explicit Agent(R& reactor, std::shared_ptr<HTTPConnectionPool> pool = nullptr, AgentOptions options = {})
      : Agent(static_cast<IReactorTCP&>(reactor), static_cast<IReactorTime&>(reactor), std::move(pool),
              std::move(options)) {}

  /// An Agent on separate connection and time interfaces.
  /// @param reactor connects.
  /// @param clock runs the timers.
  /// @param pool the pool to use, or nullptr for a pool of the Agent's own.
  /// @param options timeouts, redirects, decoding, proxy, connect function.
  Agent(IReactorTCP& reactor, IReactorTime& clock, std::shared_ptr<HTTPConnectionPool> pool = nullptr,
        AgentOptions options = {});
  ~Agent();
  Agent(const Agent&) = delete;             ///< Not copyable.
  Agent& operator=(const Agent&) = delete;  ///< Not copyable.

  /// Makes a request.
  /// @param method "GET", "POST", ... (an RFC 9110 token).
  /// @param url an absolute http or https URL.
  /// @param headers the request headers (Host and the framing headers are added).
  /// @param body the request body, or nullptr.
  /// @return fires with the response once its head arrived (after any redirects); fails
  ///         with InvalidUrlError, InvalidHeaderError, TlsUnavailableError, a connect
  ///         error, TimeoutError, CancelledError, a RedirectError, or a response error
  ///         (see errors.hpp).
  Deferred<Response> request(std::string_view method, std::string_view url, Headers headers = {},
                             std::shared_ptr<BodyProducer> body = nullptr);

  /// The pool this Agent uses.
  const std::shared_ptr<HTTPConnectionPool>& pool() const noexcept;
  /// The options given.
  const AgentOptions& options() const noexcept;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace torsion::http
