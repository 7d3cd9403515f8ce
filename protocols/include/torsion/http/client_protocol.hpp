// Public. HTTP11ClientProtocol: one HTTP/1.1 connection that carries requests one at a
// time, writes each request and parses its response with ResponseParser.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/failure.hpp>
#include <torsion/http/body_producer.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/response.hpp>
#include <torsion/http/response_parser.hpp>
#include <torsion/http/url.hpp>
#include <torsion/protocol.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace torsion::http {

/// Throws InvalidHeaderError unless `method` is an RFC 9110 token (such as "GET"), so a
/// method can never split the request line.
/// @param method the request method.
void validateMethod(std::string_view method);

/// A request as the client protocol sends it.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct Request {
  std::string method;                  ///< "GET", "POST", ... (a token)
  Url url;                             ///< where it goes: the Host header and the target
  Headers headers;                     ///< the user's headers, already validated by Headers
  std::shared_ptr<BodyProducer> body;  ///< the body, or nullptr for none
  /// Send the request line in absolute form (`GET http://host/path HTTP/1.1`), as a
  /// request to an HTTP proxy must be; origin form (`GET /path HTTP/1.1`) otherwise.
  bool absoluteForm = false;
};

/// True for the methods RFC 9110 §9.2.2 calls idempotent (GET, HEAD, OPTIONS, TRACE,
/// PUT, DELETE): those a client may send again after a connection broke.
/// @param method the request method.
bool isIdempotent(std::string_view method) noexcept;

/// The bytes of a request's head: the request line, Host (unless the user gave one),
/// the user's headers, and the framing header (Content-Length, or
/// `Transfer-Encoding: chunked` for a body of unknown length; `Content-Length: 0` for a
/// POST, PUT or PATCH without a body).
/// @param request the request.
/// @throws InvalidHeaderError when the method is not a token.
std::string formatRequestHead(const Request& request);

/// The client side of one HTTP/1.1 connection (Twisted's `HTTP11ClientProtocol`): sends
/// one request at a time, parses its response incrementally and hands it out as a
/// Response whose body streams from the connection. After a response that leaves the
/// connection reusable it calls the quiescent callback, so that a pool can use it again.
///
/// The response Deferred fires when the response head arrives (its body follows through
/// Response::deliverBody), or fails with the parser's error, ResponseNeverReceivedError
/// (the connection closed before any byte of the response: on a kept-alive connection
/// the request may be retried), RequestNotSentError, or the reason given to abort().
/// Cancelling it aborts the connection. A response that arrives while the body is still
/// being sent stops the body producer and makes the connection unusable afterwards.
///
/// @code
/// auto protocol = std::make_shared<torsion::http::HTTP11ClientProtocol>();
/// // ... connected by a ClientFactory ...
/// protocol->request({"GET", torsion::http::Url::parse("http://example.com/"), {}, nullptr})
///     .addCallback(torsion::http::readBody);
/// @endcode
///
/// Thread safety: the reactor's thread only.
class HTTP11ClientProtocol : public Protocol, private ResponseSink {
 public:
  /// What the connection is doing.
  enum class State {
    connecting,    ///< not connected yet
    idle,          ///< connected, no request: request() may be called
    transmitting,  ///< writing a request (or its body); the response may already come
    waiting,       ///< the request was sent, the response head has not arrived
    receiving,     ///< the response head was handed out; its body is arriving
    closed,        ///< lost or aborted: no more requests
  };

  /// @param limits the caps the response parser enforces on each response.
  explicit HTTP11ClientProtocol(ResponseLimits limits = {});
  ~HTTP11ClientProtocol() override;

  /// Sends `request` and returns its response.
  /// @param request what to send.
  /// @return fires with the response head (body to follow), or fails (see the class).
  /// @throws std::logic_error unless State::idle.
  /// @throws InvalidHeaderError when the method is not a token.
  Deferred<Response> request(Request request);

  /// Aborts the connection (not reusable): a pending response Deferred, or the body
  /// being delivered, fails with `reason`.
  /// @param reason such as TimeoutError or CancelledError.
  void abort(const Failure& reason);

  /// Where the connection is.
  State state() const noexcept { return state_; }

  /// Called after a response ended (its body complete) on a connection that may carry
  /// another request: the protocol is idle again. Not called when the connection is to
  /// be closed. Called outside the parser, so it may call request() at once.
  /// @param fn receives this protocol.
  void setQuiescentCallback(std::function<void(HTTP11ClientProtocol&)> fn) { quiescent_ = std::move(fn); }

  /// Called once when the connection is lost (in any state), after the pending request
  /// (if any) was failed.
  /// @param fn receives this protocol.
  void setLostCallback(std::function<void(HTTP11ClientProtocol&)> fn) { lost_ = std::move(fn); }

  /// Called once when the connection is made (State::idle).
  /// @param fn receives this protocol.
  void setConnectedCallback(std::function<void(HTTP11ClientProtocol&)> fn) { connected_ = std::move(fn); }

  /// Turns Nagle's algorithm off (TCP_NODELAY, as curl and wrk do: a request is
  /// complete when written, so holding its last small segment back only adds latency)
  /// and reports the connection (the connected callback).
  void connectionMade() override;
  /// Feeds the response parser.
  void dataReceived(Bytes data) override;
  /// Ends a body read until close, or fails what is pending.
  void connectionLost(const Failure& reason) override;

 private:
  struct Exchange;
  class Consumer;
  class BodyControl;

  void headReceived(ResponseHead head) override;
  void bodyReceived(Bytes data) override;
  void responseComplete(Headers trailers) override;
  void startBody();
  void bodyWritten();
  void bodyFailed(const Failure& reason);
  void finishExchange();
  void fail(const Failure& reason);
  void closeNow();
  /// Writes `pieces` in order, or gathers them while request() is writing (see output_).
  void send(std::span<const Bytes> pieces);
  /// Writes what request() gathered, in one write.
  void flushGathered();

  /// Whether writes go to the transport or are gathered: request() gathers the head and
  /// whatever body the producer writes at once (a string body), so that a small request
  /// leaves in one write and one segment, never a head the kernel sends alone.
  enum class Output { direct, gathering };

  ResponseParser parser_;
  Output output_ = Output::direct;
  std::string gathered_;
  State state_ = State::connecting;
  std::shared_ptr<Exchange> exchange_;
  std::function<void(HTTP11ClientProtocol&)> quiescent_;
  std::function<void(HTTP11ClientProtocol&)> lost_;
  std::function<void(HTTP11ClientProtocol&)> connected_;
};

}  // namespace torsion::http
