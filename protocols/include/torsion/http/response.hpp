// Public. Response: what an HTTP request answers, with its body delivered as it arrives
// (Response::deliverBody) or read whole (readBody).
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/deferred.hpp>
#include <torsion/failure.hpp>
#include <torsion/http/errors.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/url.hpp>
#include <torsion/producer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torsion::http {

namespace detail {
class BodyStream;
}

/// The request a response answers: what was sent (after redirects, the last hop's).
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct RequestInfo {
  std::string method;  ///< "GET", "POST", ...
  Url url;             ///< the URL requested
  Headers headers;     ///< the headers the user gave (Host and framing headers not included)
};

/// One redirect followed on the way to a response (Twisted's `previousResponse` chain).
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct RedirectHop {
  RequestInfo request;  ///< the request that was redirected
  int code = 0;         ///< its response's status: 301, 302, 303, 307 or 308
  Headers headers;      ///< its response's headers (Location among them)
};

/// Receives a response body as it arrives (Twisted's protocol given to
/// `Response.deliverBody`): bodyReceived for each part, then bodyFinished once.
///
/// Thread safety: the reactor's thread only.
class BodyReceiver {
 public:
  virtual ~BodyReceiver() = default;
  /// Called once, before any bodyReceived, with the producer of the body: pauseProducing
  /// stops reading from the connection (back-pressure), resumeProducing goes on,
  /// stopProducing abandons the body (the connection is closed, not reused).
  /// @param producer valid until bodyFinished returns; the receiver may keep it.
  virtual void bodyStarted(std::shared_ptr<IPushProducer> producer) { (void)producer; }
  /// The next bytes of the body (after chunked and, if asked for, content decoding).
  /// @param data a view valid only during the call.
  virtual void bodyReceived(Bytes data) = 0;
  /// The body ended: `reason` holds ResponseDone when it arrived whole, else why not
  /// (ResponseTruncatedError, ResponseTooLargeError, TimeoutError, CancelledError, ...).
  /// @param reason ResponseDone or the error.
  virtual void bodyFinished(const Failure& reason) = 0;
};

/// An HTTP response (Twisted's `IResponse`): status, headers, the request it answers, the
/// redirects that led to it, and its body.
///
/// The body is not read until asked for: call deliverBody once with a BodyReceiver to
/// get it as it arrives, or use readBody to have it collected in `body`. Until then the
/// connection holds at most one read of it and stops reading. A Response is a handle:
/// copies share the same body. When every copy is dropped before deliverBody, the body is
/// abandoned and the connection is closed rather than reused.
///
/// Thread safety: the reactor's thread only (copies share the body stream).
class Response {
 public:
  int code = 0;                         ///< the status code, such as 200
  std::string phrase;                   ///< the reason phrase, such as "OK"
  int versionMajor = 1;                 ///< HTTP major version (1)
  int versionMinor = 1;                 ///< HTTP minor version (0 or 1)
  Headers headers;                      ///< the response headers, repeated fields kept
  std::optional<std::uint64_t> length;  ///< the body length when known (Content-Length), else nullopt
  std::optional<RequestInfo> request;   ///< the request this answers (set by the Agent)
  std::vector<RedirectHop> history;     ///< the redirects followed to get here, oldest first
  std::string body;                     ///< the whole body, once read by readBody or getPage
  Headers trailers;                     ///< the trailers of a chunked body, once read by readBody

  /// Hands the body to `receiver` as it arrives (Twisted's `deliverBody`). Bytes that
  /// arrived before are given first. A response without a body (HEAD, 204, 304)
  /// finishes at once with ResponseDone.
  /// @param receiver kept until its bodyFinished has returned.
  /// @throws std::logic_error if the body was already delivered (or this Response has
  ///         none, such as a default-constructed one).
  void deliverBody(std::shared_ptr<BodyReceiver> receiver) const;

  /// True while deliverBody may be called: the body was not handed out yet.
  bool bodyAvailable() const noexcept;

  /// Lets the client parts attach the body stream; not for users.
  /// @param stream the stream the connection feeds.
  void setBodyStream(std::shared_ptr<detail::BodyStream> stream) { body_ = std::move(stream); }
  /// The body stream (the client parts' view); not for users.
  const std::shared_ptr<detail::BodyStream>& bodyStream() const noexcept { return body_; }

 private:
  std::shared_ptr<detail::BodyStream> body_;
};

/// readBody's default cap on the body: 16 MiB.
inline constexpr std::uint64_t defaultMaxBodyBytes = 16ull * 1024 * 1024;

/// Reads a response's whole body into Response::body (Twisted's `readBody`), failing
/// with ResponseTooLargeError past a cap (at once when Content-Length says so, before
/// any byte is stored). A function object, so that it can be passed to addCallback and
/// given another cap with withLimit.
///
/// @code
/// torsion::http::Response page =
///     co_await agent.request("GET", url).addCallback(torsion::http::readBody);
/// agent.request("GET", url).addCallback(torsion::http::readBody.withLimit(1 << 20));
/// @endcode
///
/// Thread safety: a constant value type; the Deferreds it returns belong to the reactor's thread.
struct ReadBody {
  std::uint64_t maxBytes = defaultMaxBodyBytes;  ///< the cap on the body, in bytes

  /// Reads the body of `response`.
  /// @param response a response whose body was not delivered yet.
  /// @return the same response with `body` (and `trailers`) filled in; fails with the
  ///         error that ended the body (ResponseTooLargeError past the cap).
  Deferred<Response> operator()(Response response) const;

  /// The same reader with another cap.
  /// @param bytes the cap on the body, in bytes.
  constexpr ReadBody withLimit(std::uint64_t bytes) const noexcept { return ReadBody{bytes}; }
};

/// Reads a whole body, capped at defaultMaxBodyBytes: see ReadBody.
inline constexpr ReadBody readBody{};

}  // namespace torsion::http
