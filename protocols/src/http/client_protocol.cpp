// HTTP11ClientProtocol: one request at a time on one connection.
#include <torsion/http/client_protocol.hpp>

#include <torsion/errors.hpp>
#include <torsion/tls/errors.hpp>

#include "body_stream.hpp"
#include "http_chars.hpp"

#include <array>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace torsion::http {

namespace {

// The most of a request gathered into one write (see HTTP11ClientProtocol::Output). A
// larger body goes out as the producer writes it: copying it would cost more than the
// extra segment, which TCP_NODELAY sends at once anyway.
constexpr std::size_t kGatherLimit = 64 * 1024;

// The body length a head announces, when it is known before the body arrives.
std::optional<std::uint64_t> announcedLength(const ResponseHead& head, std::string_view method) {
  if (method == "HEAD" || head.code == 204 || head.code == 304 || head.code < 200) return 0;
  if (head.headers.has("Transfer-Encoding")) return std::nullopt;
  auto value = head.headers.get("Content-Length");
  if (!value) return std::nullopt;
  // The parser checked repeated values are identical; take the first list element.
  std::string_view text = detail::trimWhitespace(std::string_view(*value).substr(0, value->find(',')));
  std::uint64_t length = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), length);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return length;
}

}  // namespace

// One request and its response. The protocol owns it; the body stream, the body
// consumer and the response Deferred's canceller refer to it weakly.
struct HTTP11ClientProtocol::Exchange : detail::BodySource {
  /// How far the request body got.
  enum class BodyState { none, producing, written, stopped };

  HTTP11ClientProtocol* protocol;  // null once the exchange is over
  Request request;
  Deferred<Response> result;
  bool resultFired = false;
  bool responseComplete = false;
  Headers trailers;
  BodyState bodyState = BodyState::none;
  std::weak_ptr<detail::BodyStream> stream;
  bool transportPaused = false;

  Exchange(HTTP11ClientProtocol* owner, Request r) : protocol(owner), request(std::move(r)) {}

  void pauseBody() override {
    if (protocol == nullptr || transportPaused || !protocol->connected()) return;
    transportPaused = true;
    protocol->transport().pauseProducing();
  }
  void resumeBody() override {
    if (protocol == nullptr || !transportPaused) return;
    transportPaused = false;
    if (protocol->connected()) protocol->transport().resumeProducing();
  }
  void abandonBody() override {
    if (protocol != nullptr) protocol->abort(Failure(CancelledError("The response body was abandoned")));
  }
};

// Where the request body producer writes: frames the bytes as chunks when the length is
// unknown. Refers to the exchange weakly, so a late write after an abort does nothing.
class HTTP11ClientProtocol::Consumer : public BodyConsumer {
 public:
  Consumer(std::weak_ptr<Exchange> exchange, bool chunked) : exchange_(std::move(exchange)), chunked_(chunked) {}

  void write(Bytes data) override {
    auto exchange = exchange_.lock();
    if (!exchange || exchange->protocol == nullptr || data.empty()) return;
    if (exchange->bodyState != Exchange::BodyState::producing) return;
    if (!chunked_) {
      exchange->protocol->send(std::span<const Bytes>(&data, 1));
      return;
    }
    std::array<char, 24> size{};
    auto end = std::to_chars(size.data(), size.data() + size.size() - 2, data.size(), 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    const std::array<Bytes, 3> pieces{Bytes(size.data(), static_cast<std::size_t>(end - size.data())), data,
                                      Bytes("\r\n")};
    exchange->protocol->send(pieces);
  }

 private:
  std::weak_ptr<Exchange> exchange_;
  bool chunked_;
};

HTTP11ClientProtocol::HTTP11ClientProtocol(ResponseLimits limits) : parser_(limits) {}

HTTP11ClientProtocol::~HTTP11ClientProtocol() {
  if (exchange_) {
    auto exchange = std::move(exchange_);
    exchange->protocol = nullptr;
    // Nobody can fire these any more: say so rather than leave them hanging.
    const Failure reason(ConnectionLost("The HTTP connection was destroyed"));
    if (!exchange->resultFired) {
      exchange->resultFired = true;
      exchange->result.errback(reason);
    } else if (auto stream = exchange->stream.lock()) {
      stream->finish(reason);
    }
  }
}

void HTTP11ClientProtocol::connectionMade() {
  state_ = State::idle;
  try {
    transport().setTcpNoDelay(true);
  } catch (const std::logic_error&) {
    // Not a TCP transport (a Unix socket, a test's transport): there is no Nagle to undo.
  }
  if (connected_) connected_(*this);
}

Deferred<Response> HTTP11ClientProtocol::request(Request request) {
  if (state_ != State::idle) {
    throw std::logic_error("HTTP11ClientProtocol::request: the connection is not idle (one request at a time)");
  }
  std::string head = formatRequestHead(request);
  auto exchange = std::make_shared<Exchange>(this, std::move(request));
  std::weak_ptr<Exchange> weak = exchange;
  exchange->result = Deferred<Response>([weak](Deferred<Response>&) {
    if (auto e = weak.lock(); e && e->protocol != nullptr) {
      e->protocol->abort(Failure(CancelledError("The HTTP request was cancelled")));
    }
  });
  Deferred<Response> result = exchange->result;
  exchange_ = exchange;
  parser_.startResponse(exchange->request.method);
  state_ = State::transmitting;
  output_ = Output::gathering;
  gathered_ = std::move(head);
  if (exchange->request.body) {
    startBody();
  } else if (state_ == State::transmitting) {
    state_ = State::waiting;
  }
  flushGathered();
  return result;
}

void HTTP11ClientProtocol::send(std::span<const Bytes> pieces) {
  if (output_ == Output::gathering) {
    std::size_t size = 0;
    for (Bytes piece : pieces) size += piece.size();
    if (gathered_.size() + size <= kGatherLimit) {
      for (Bytes piece : pieces) gathered_.append(piece);
      return;
    }
    flushGathered();
  }
  if (pieces.size() == 1) {
    transport().write(pieces.front());
  } else {
    transport().writeSequence(pieces);
  }
}

void HTTP11ClientProtocol::flushGathered() {
  output_ = Output::direct;
  const std::string pending = std::exchange(gathered_, std::string());
  // Nothing goes out once the request failed while it was being gathered.
  if (!pending.empty() && state_ != State::closed && connected()) transport().write(pending);
}

void HTTP11ClientProtocol::startBody() {
  auto exchange = exchange_;
  auto producer = exchange->request.body;
  const bool chunked = !producer->length().has_value();
  exchange->bodyState = Exchange::BodyState::producing;
  transport().registerProducer(producer, true);
  std::weak_ptr<Exchange> weak = exchange;
  Deferred<void> written;
  try {
    written = producer->startProducing(std::make_shared<Consumer>(weak, chunked));
  } catch (...) {
    written = Deferred<void>();
    written.errback();
  }
  written.addBoth([weak](const Result<void>& outcome) {
    auto e = weak.lock();
    if (!e || e->protocol == nullptr || e->bodyState != Exchange::BodyState::producing) return;
    if (outcome.failed()) {
      e->protocol->bodyFailed(outcome.failure());
    } else {
      e->protocol->bodyWritten();
    }
  });
}

void HTTP11ClientProtocol::bodyWritten() {
  auto exchange = exchange_;
  const bool chunked = !exchange->request.body->length().has_value();
  exchange->bodyState = Exchange::BodyState::written;
  transport().unregisterProducer();
  if (chunked) {
    const Bytes last("0\r\n\r\n");
    send(std::span<const Bytes>(&last, 1));
  }
  if (state_ == State::transmitting) state_ = State::waiting;
  if (exchange->responseComplete) finishExchange();
}

void HTTP11ClientProtocol::bodyFailed(const Failure& reason) {
  abort(Failure(RequestNotSentError("The request body could not be produced: " + reason.toString())));
}

void HTTP11ClientProtocol::dataReceived(Bytes data) {
  if (state_ == State::closed) return;
  if (!exchange_ || exchange_->responseComplete) {
    // Bytes no request asked for: the connection cannot be trusted any more.
    closeNow();
    return;
  }
  auto exchange = exchange_;  // the user's callbacks may end the exchange
  std::size_t used = 0;
  try {
    used = parser_.feed(data, *this);
  } catch (...) {
    fail(Failure::current());
    return;
  }
  if (state_ == State::closed || !exchange->responseComplete || exchange_ != exchange) return;
  if (used < data.size()) {
    // More than the response: a server that sends ahead cannot be kept.
    closeNow();
  }
  finishExchange();
}

void HTTP11ClientProtocol::headReceived(ResponseHead head) {
  auto exchange = exchange_;
  if (exchange->bodyState == Exchange::BodyState::producing) {
    // An early answer (such as 413): stop sending; the connection cannot be reused.
    exchange->bodyState = Exchange::BodyState::stopped;
    transport().unregisterProducer();
    exchange->request.body->stopProducing();
  }
  state_ = State::receiving;
  Response response;
  response.length = announcedLength(head, exchange->request.method);
  response.code = head.code;
  response.phrase = std::move(head.phrase);
  response.versionMajor = head.versionMajor;
  response.versionMinor = head.versionMinor;
  response.headers = std::move(head.headers);
  auto stream = std::make_shared<detail::BodyStream>(std::weak_ptr<detail::BodySource>(exchange));
  exchange->stream = stream;
  response.setBodyStream(std::move(stream));
  exchange->resultFired = true;
  exchange->result.callback(std::move(response));
}

void HTTP11ClientProtocol::bodyReceived(Bytes data) {
  // A user's callback may have aborted the exchange while the parser is still going.
  if (state_ == State::closed || !exchange_) return;
  if (auto stream = exchange_->stream.lock()) stream->write(data);
}

void HTTP11ClientProtocol::responseComplete(Headers trailers) {
  if (!exchange_) return;  // aborted from a user's callback during this feed
  exchange_->responseComplete = true;
  exchange_->trailers = std::move(trailers);
}

void HTTP11ClientProtocol::finishExchange() {
  auto exchange = exchange_;
  if (!exchange || !exchange->responseComplete) return;
  if (exchange->bodyState == Exchange::BodyState::producing) return;  // bodyWritten comes back here
  const bool reusable = state_ != State::closed && parser_.state() == ResponseParser::State::complete &&
                        parser_.keepAlive() && exchange->bodyState != Exchange::BodyState::stopped;
  if (exchange->transportPaused && connected()) transport().resumeProducing();
  exchange->transportPaused = false;
  exchange->protocol = nullptr;
  exchange_.reset();
  auto stream = exchange->stream.lock();
  if (reusable) {
    state_ = State::idle;
    // The pool gets the connection back before the user hears the body ended, so a
    // request made from that callback can reuse it.
    if (quiescent_) quiescent_(*this);
  } else if (state_ != State::closed) {
    state_ = State::closed;
    if (connected()) transport().loseConnection();
  }
  if (stream) stream->finish(Failure(ResponseDone()), std::move(exchange->trailers));
}

void HTTP11ClientProtocol::abort(const Failure& reason) {
  if (state_ == State::closed) return;
  closeNow();
  fail(reason);
}

void HTTP11ClientProtocol::closeNow() {
  state_ = State::closed;
  if (connected()) transport().abortConnection();
}

void HTTP11ClientProtocol::fail(const Failure& reason) {
  state_ = State::closed;
  if (connected() && !transport().disconnecting()) transport().abortConnection();
  auto exchange = std::move(exchange_);
  if (!exchange) return;
  exchange->protocol = nullptr;
  if (exchange->bodyState == Exchange::BodyState::producing) {
    exchange->bodyState = Exchange::BodyState::stopped;
    exchange->request.body->stopProducing();
  }
  if (!exchange->resultFired) {
    exchange->resultFired = true;
    exchange->result.errback(reason);
  } else if (auto stream = exchange->stream.lock()) {
    stream->finish(reason);
  }
}

void HTTP11ClientProtocol::connectionLost(const Failure& reason) {
  if (exchange_ && state_ != State::closed) {
    auto exchange = exchange_;
    if (reason.check<tls::TLSError>()) {
      // A TLS failure (a certificate that did not verify, a bad record) is the cause:
      // the request fails with it, not with what the parser makes of the silence.
      fail(reason);
    } else if (exchange->bodyState == Exchange::BodyState::producing) {
      fail(Failure(RequestNotSentError("The connection was lost while the request was sent: " + reason.toString())));
    } else {
      try {
        parser_.connectionLost(*this);
      } catch (...) {
        fail(Failure::current());
      }
      if (exchange_ == exchange && exchange->responseComplete) {
        state_ = State::closed;  // a body read until close: complete, never reusable
        finishExchange();
      } else if (exchange_ == exchange) {
        fail(reason);
      }
    }
  }
  state_ = State::closed;
  if (auto lost = std::move(lost_)) lost(*this);
}

}  // namespace torsion::http
