// Public. The errors of torsion's HTTP client parts: bad URLs and headers from the user,
// and malformed, oversized or truncated responses from the server.
#pragma once

#include <torsion/errors.hpp>

#include <cstdint>
#include <string>

namespace torsion::http {

/// Base of every HTTP error torsion throws or reports in a Failure.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class HttpError : public Error {
 public:
  using Error::Error;
};

/// A URL that Url::parse or Url::resolve refuses; what() quotes the URL and says why.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class InvalidUrlError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// A URL whose scheme is neither `http` nor `https` (a redirect to `ftp:` is one).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class UnsupportedSchemeError : public InvalidUrlError {
 public:
  using InvalidUrlError::InvalidUrlError;
};

/// A header name or value given by the user that cannot be sent: a name that is not an
/// RFC 9110 token, or a value with CR, LF or NUL (which would let it forge headers).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class InvalidHeaderError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// The server's response is malformed: what() says what was wrong and where (the line
/// or the byte offset into the response).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ResponseParseError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// A response passed one of its caps (ResponseLimits, or the decoder's output cap).
/// what() names the cap and its size; limit() is that size.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ResponseTooLargeError : public HttpError {
 public:
  /// @param what which part passed its cap ("header block", "body", ...).
  /// @param limit the cap, in bytes.
  ResponseTooLargeError(const std::string& what, std::uint64_t limit)
      : HttpError("HTTP response " + what + " is larger than the limit of " + std::to_string(limit) + " bytes"),
        limit_(limit) {}

  /// The cap that was passed, in bytes.
  std::uint64_t limit() const noexcept { return limit_; }

 private:
  std::uint64_t limit_;
};

/// The connection closed before the response's framing said it ended (Twisted's
/// `ResponseFailed` with `PotentialDataLoss`); what() says how far the response got.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ResponseTruncatedError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// The connection closed before any byte of the response arrived (Twisted's
/// `ResponseNeverReceived`): on a kept-alive connection, the server had closed it, and
/// an idempotent request may be retried on a fresh one.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ResponseNeverReceivedError : public ResponseTruncatedError {
 public:
  /// @param message details.
  explicit ResponseNeverReceivedError(
      const std::string& message = "The connection closed before any byte of the HTTP response arrived")
      : ResponseTruncatedError(message) {}
};

/// A compressed body (Content-Encoding: gzip or deflate) is corrupt or ends before its
/// compressed stream does.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class DecompressionError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// An `https://` URL through a ConnectFunction that cannot open TLS connections
/// (plainConnect): the request fails at once, before any byte is sent, so a request
/// meant for TLS never goes out in plain text.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class TlsUnavailableError : public HttpError {
 public:
  /// @param message details.
  explicit TlsUnavailableError(
      const std::string& message = "https:// needs TLS, which this ConnectFunction does not provide")
      : HttpError(message) {}
};

/// An HTTP proxy did not open the tunnel a CONNECT request asked for (https through a
/// proxy): it answered with a status other than 2xx, answered with something that is not
/// HTTP, or closed the connection first. what() names the proxy, the target and the
/// status; the connection to the proxy is closed, never reused.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ProxyConnectError : public HttpError {
 public:
  /// @param message details.
  /// @param code the proxy's status code, or 0 when it sent none.
  explicit ProxyConnectError(const std::string& message, int code = 0) : HttpError(message), code_(code) {}

  /// The status code of the proxy's answer (403, 407, 502, ...), or 0 when there was none.
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// Base of the errors of following redirects.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class RedirectError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// More redirects in a row than AgentOptions::redirectLimit (Twisted's
/// `InfiniteRedirection`).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class RedirectLimitError : public RedirectError {
 public:
  using RedirectError::RedirectError;
};

/// A redirect back to a URL (with the same method) already visited in this chain.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class RedirectLoopError : public RedirectError {
 public:
  using RedirectError::RedirectError;
};

/// A redirect response (301, 302, 303, 307, 308) without a usable Location header.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class RedirectLocationError : public RedirectError {
 public:
  using RedirectError::RedirectError;
};

/// The reason a BodyReceiver's bodyFinished gets when the whole body arrived (Twisted's
/// `ResponseDone`): not an error, a clean end.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ResponseDone : public HttpError {
 public:
  /// @param message details.
  explicit ResponseDone(const std::string& message = "The response body was received completely")
      : HttpError(message) {}
};

/// A request that could not be sent: the connection was lost while it was being
/// written, or its body producer failed (Twisted's `RequestGenerationFailed`).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class RequestNotSentError : public HttpError {
 public:
  using HttpError::HttpError;
};

}  // namespace torsion::http
