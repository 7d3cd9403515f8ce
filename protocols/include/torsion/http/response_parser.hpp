// Public. ResponseParser: an incremental HTTP/1.1 response parser (RFC 9112) that hands
// the head, the body and the trailers to a ResponseSink.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/http/errors.hpp>
#include <torsion/http/headers.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace torsion::http {

/// The status line and header fields of a response.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ResponseHead {
  int code = 0;          ///< the status code, 100..599
  std::string phrase;    ///< the reason phrase (may be empty)
  int versionMajor = 1;  ///< 1
  int versionMinor = 1;  ///< 0 or 1 (any digit is accepted)
  Headers headers;       ///< the header fields, in order, repeated fields kept
};

/// Where a ResponseParser delivers a response; the HTTP client protocol implements it.
/// The parser calls headReceived once, then bodyReceived any number of times, then
/// responseComplete once. A sink must not call the parser that is calling it.
///
/// Thread safety: called on the thread that feeds the parser.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  /// The final (non-1xx) head arrived; interim 1xx heads are skipped.
  /// @param head the status line and the headers.
  virtual void headReceived(ResponseHead head) = 0;
  /// Some bytes of the body (after chunked decoding, before any content decoding).
  /// @param data a view valid only during the call, usually into the fed bytes.
  virtual void bodyReceived(Bytes data) = 0;
  /// The whole response arrived.
  /// @param trailers the trailer fields of a chunked body (empty otherwise).
  virtual void responseComplete(Headers trailers) = 0;
};

/// The caps a ResponseParser enforces; passing one throws ResponseTooLargeError.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct ResponseLimits {
  /// The status line and header fields together (every 1xx head and the final head
  /// counted on their own), line endings included; the trailers have a cap of the same
  /// size of their own.
  std::size_t maxHeaderBytes = 64 * 1024;
  /// The body after chunked decoding. A Content-Length above it fails at once, other
  /// bodies as soon as an announced chunk or the bytes read would pass it. No cap by
  /// default: the parser holds no body bytes, so its memory does not grow with the body;
  /// whoever keeps the body sets the cap. The sink receives the body up to the cap,
  /// never a byte past it, however the bytes are cut.
  std::uint64_t maxBodyBytes = std::numeric_limits<std::uint64_t>::max();
  /// One chunk-size line, extensions included.
  std::size_t maxChunkLineBytes = 4 * 1024;
};

/// Parses HTTP/1.1 responses from a byte stream, incrementally, one response at a time
/// (RFC 9112), without ever buffering the body: body bytes go to the sink as views of
/// the bytes fed. Only a line that is cut between two feeds is copied (and capped).
///
/// Framing (RFC 9112 §6.3): no body after a HEAD request, or for 1xx, 204 and 304; a 2xx
/// answer to CONNECT ends with its head (the connection is a tunnel from there on, so
/// its Content-Length and Transfer-Encoding are ignored and keepAlive() is false);
/// `Transfer-Encoding` whose last coding is `chunked` (extensions ignored, trailers
/// kept), any other final coding reads until close (codings other than chunked are not
/// undone); otherwise `Content-Length`; otherwise until close. With both
/// Transfer-Encoding and Content-Length, Transfer-Encoding wins and the connection is not
/// reused. Interim 1xx heads are skipped; 101 Switching Protocols is an error.
///
/// Strictness (each a ResponseParseError unless noted):
/// - the status line is `HTTP/1.<digit> <3-digit code 100..599>[ <reason>]`;
/// - header names are tokens; whitespace between name and colon is an error (RFC 9112
///   §5.1); values may hold only visible characters, obs-text, SP and HTAB (RFC 9110
///   §5.5: NUL, CR and the other controls are refused); obs-fold continuation lines are joined
///   with a space (§5.2), but not right after the status line;
/// - lines of the head and the trailers may end in CRLF or in a bare LF (as browsers
///   accept; RFC 9112 §2.2); chunk-size lines and chunk data must end in CRLF; a CR not
///   before LF is an error;
/// - Content-Length must be digits; repeated values (in one field as a list, or in
///   several fields) must be identical; a Transfer-Encoding in an HTTP/1.0 response is
///   an error;
/// - chunk sizes are at most 16 hex digits, followed by optional `;extensions`; each
///   chunk's data must be followed by a line end.
///
/// Errors are exceptions thrown from feed() (or connectionLost()), so they cannot be
/// ignored; after one, the parser is in State::failed and every further feed throws.
///
/// @code
/// torsion::http::ResponseParser parser;
/// parser.startResponse("GET");
/// std::size_t used = parser.feed(bytes, sink);  // may complete the response
/// if (parser.state() == torsion::http::ResponseParser::State::complete) {
///   bool reuse = parser.keepAlive();
///   // bytes.substr(used) belong to the next response: startResponse, then feed them.
/// }
/// @endcode
///
/// Thread safety: not synchronised: use each parser from one thread at a time; separate parsers are independent.
class ResponseParser {
 public:
  /// Where the parser is in a response.
  enum class State {
    idle,            ///< no response expected: call startResponse
    statusLine,      ///< reading a status line (of a 1xx or the final head)
    headers,         ///< reading header fields
    body,            ///< reading a Content-Length body
    bodyUntilClose,  ///< reading a body that ends when the connection closes
    chunkSize,       ///< reading a chunk-size line
    chunkData,       ///< reading a chunk's data
    chunkDataEnd,    ///< reading the line end after a chunk's data
    trailers,        ///< reading trailer fields after the last chunk
    complete,        ///< responseComplete was called; call startResponse for the next
    failed,          ///< an error was thrown; the connection cannot be used any more
  };

  /// @param limits the caps on the header block, the body and chunk-size lines.
  explicit ResponseParser(ResponseLimits limits = {});

  /// Expects a new response, to a request made with `requestMethod` (a HEAD request's
  /// response has no body, nor a CONNECT request's 2xx). Allowed in State::idle and
  /// State::complete.
  /// @param requestMethod the request's method, such as "GET" or "HEAD".
  /// @throws std::logic_error in any other state.
  void startResponse(std::string_view requestMethod);

  /// Parses bytes of the response, calling `sink` as parts of it arrive. Stops right
  /// after responseComplete: the bytes after it are not consumed (they belong to the
  /// next response), and the return value says how many were.
  /// @param data bytes from the connection.
  /// @param sink receives the head, the body and the end.
  /// @return how many bytes of `data` were consumed (all of them unless complete).
  /// @throws ResponseParseError for malformed input, or bytes when no response is
  ///         expected (State::idle or State::complete).
  /// @throws ResponseTooLargeError when a cap of ResponseLimits is passed.
  std::size_t feed(Bytes data, ResponseSink& sink);

  /// The connection closed: completes a body that is read until close, does nothing
  /// when no response is in progress.
  /// @param sink receives responseComplete for an until-close body.
  /// @throws ResponseNeverReceivedError when not a byte of the response had arrived.
  /// @throws ResponseTruncatedError when the response had started but not ended.
  void connectionLost(ResponseSink& sink);

  /// After State::complete: true when the connection may carry another request (HTTP/1.1
  /// without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`, and the
  /// framing did not need the close and had no Transfer-Encoding/Content-Length clash).
  bool keepAlive() const noexcept;

  /// Where the parser is.
  State state() const noexcept { return state_; }

  /// Body bytes delivered so far in this response (after chunked decoding).
  std::uint64_t bodyBytesReceived() const noexcept { return bodyBytes_; }

 private:
  /// How the message body's end is found, decided when the head is complete.
  enum class Framing { none, contentLength, chunked, untilClose };

  std::size_t step(Bytes data, ResponseSink& sink);
  std::size_t lineStep(Bytes data, ResponseSink& sink);
  std::size_t chunkDataEndReceived(Bytes data);
  void lineReceived(std::string_view line, ResponseSink& sink);
  void statusLineReceived(std::string_view line);
  void fieldLineReceived(std::string_view line, Headers& into);
  void checkFieldValue(std::string_view value) const;
  void flushPendingField(Headers& into);
  void headComplete(ResponseSink& sink);
  void chooseFraming();
  std::uint64_t contentLength() const;
  void chunkSizeReceived(std::string_view line);
  void deliver(Bytes data, ResponseSink& sink);
  void complete(ResponseSink& sink);
  [[noreturn]] void tooLongLine() const;
  [[noreturn]] void fail(const std::string& message) const;

  ResponseLimits limits_;
  State state_ = State::idle;
  Framing framing_ = Framing::none;
  /// What the request asked for, as far as the response's framing cares.
  enum class RequestKind { other, head, connect };
  RequestKind requestKind_ = RequestKind::other;
  bool closeAfter_ = false;                  // the framing or the headers forbid reuse
  std::uint64_t responseBytes_ = 0;          // bytes of this response consumed so far
  std::uint64_t lineOffset_ = 0;             // where the line being parsed starts, for errors
  std::size_t blockBytes_ = 0;               // bytes of the current head or trailer block
  std::string partial_;                      // a line cut between two feeds
  std::optional<HeaderField> pendingField_;  // the last field, open to obs-fold
  ResponseHead head_;
  Headers trailers_;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  std::uint64_t bodyBytes_ = 0;
};

}  // namespace torsion::http
