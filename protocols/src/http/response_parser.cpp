// ResponseParser: RFC 9112 response framing, one state per part of the message. Lines
// are taken from the fed bytes in place; only a line cut between two feeds is copied,
// into partial_, whose size the caps bound. Body bytes are never copied.
#include <torsion/http/response_parser.hpp>

#include <stdexcept>
#include <utility>

#include "http_chars.hpp"

namespace torsion::http {
namespace {

using detail::isWhitespace;
using detail::trimWhitespace;

// Calls `each` with every non-empty element of a comma-separated list (RFC 9110 §5.6.1).
template <class F>
void forEachListElement(std::string_view list, F&& each) {
  while (true) {
    const auto comma = list.find(',');
    const auto element = trimWhitespace(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// A coding or connection option without parameters, lower-cased.
std::string lowerToken(std::string_view element) {
  element = trimWhitespace(element.substr(0, element.find(';')));
  std::string out;
  for (char c : element) out += detail::lower(c);
  return out;
}

}  // namespace

ResponseParser::ResponseParser(ResponseLimits limits) : limits_(limits) {}

void ResponseParser::startResponse(std::string_view requestMethod) {
  if (state_ != State::idle && state_ != State::complete) {
    throw std::logic_error("ResponseParser::startResponse: the previous response has not completed");
  }
  state_ = State::statusLine;
  framing_ = Framing::none;
  requestKind_ = requestMethod == "HEAD"      ? RequestKind::head
                 : requestMethod == "CONNECT" ? RequestKind::connect
                                              : RequestKind::other;
  closeAfter_ = false;
  responseBytes_ = 0;
  lineOffset_ = 0;
  blockBytes_ = 0;
  partial_.clear();
  pendingField_.reset();
  head_ = ResponseHead{};
  trailers_ = Headers{};
  remaining_ = 0;
  bodyBytes_ = 0;
}

std::size_t ResponseParser::feed(Bytes data, ResponseSink& sink) {
  if (data.empty()) return 0;
  if (state_ == State::failed) {
    throw ResponseParseError("The HTTP response parser failed earlier: the connection cannot be used any more");
  }
  if (state_ == State::idle || state_ == State::complete) {
    state_ = State::failed;
    throw ResponseParseError("Unexpected data from the HTTP server (\"" + detail::printable(data.substr(0, 40)) +
                             "\") while no response is expected");
  }
  std::size_t used = 0;
  try {
    while (used < data.size() && state_ != State::complete) {
      const std::size_t n = step(data.substr(used), sink);
      used += n;
      responseBytes_ += n;
    }
  } catch (...) {
    state_ = State::failed;
    throw;
  }
  return used;
}

std::size_t ResponseParser::step(Bytes data, ResponseSink& sink) {
  switch (state_) {
    case State::body: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      remaining_ -= n;
      deliver(data.substr(0, n), sink);
      if (remaining_ == 0) complete(sink);
      return n;
    }
    case State::bodyUntilClose: deliver(data, sink); return data.size();
    case State::chunkData: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      remaining_ -= n;
      deliver(data.substr(0, n), sink);
      if (remaining_ == 0) state_ = State::chunkDataEnd;
      return n;
    }
    case State::chunkDataEnd: return chunkDataEndReceived(data);
    default: return lineStep(data, sink);
  }
}

std::size_t ResponseParser::chunkDataEndReceived(Bytes data) {
  // CRLF after each chunk's data (no bare LF in chunked framing, see lineStep); a CR
  // already seen waits in partial_.
  lineOffset_ = responseBytes_ - partial_.size();
  if (partial_.empty() && data.front() == '\r') {
    partial_ = "\r";
    return 1;
  }
  if (partial_.empty() || data.front() != '\n') {
    fail("the data of a chunk is not followed by CRLF (the chunk size is wrong)");
  }
  partial_.clear();
  state_ = State::chunkSize;
  return 1;
}

std::size_t ResponseParser::lineStep(Bytes data, ResponseSink& sink) {
  const bool chunkLine = state_ == State::chunkSize;
  const std::size_t cap = chunkLine ? limits_.maxChunkLineBytes : limits_.maxHeaderBytes - blockBytes_;
  const auto end = data.find('\n');
  if (end == std::string_view::npos) {
    if (partial_.size() + data.size() > cap) tooLongLine();
    partial_.append(data);
    return data.size();
  }
  const std::size_t used = end + 1;
  std::string_view line = data.substr(0, used);
  if (!partial_.empty()) {
    partial_.append(line);
    line = partial_;
  }
  if (line.size() > cap) tooLongLine();
  lineOffset_ = responseBytes_ + used - line.size();
  if (!chunkLine) blockBytes_ += line.size();
  const bool crlf = line.size() >= 2 && line[line.size() - 2] == '\r';
  // A bare LF ends a line of the head or the trailers (RFC 9112 §2.2 allows it for
  // start-line and fields), never a chunk-size line: parsers that disagree on chunk
  // boundaries are how responses get smuggled.
  if (chunkLine && !crlf) fail("the chunk-size line ends in a bare LF, not CRLF");
  line.remove_suffix(crlf ? 2 : 1);
  const auto cr = line.find('\r');
  if (cr != std::string_view::npos)
    fail("a CR that is not followed by LF, at byte " + std::to_string(cr) + " of a line");
  lineReceived(line, sink);
  partial_.clear();
  return used;
}

void ResponseParser::tooLongLine() const {
  switch (state_) {
    case State::chunkSize: throw ResponseTooLargeError("chunk-size line", limits_.maxChunkLineBytes);
    case State::trailers: throw ResponseTooLargeError("trailer block", limits_.maxHeaderBytes);
    default: throw ResponseTooLargeError("header block (status line and headers)", limits_.maxHeaderBytes);
  }
}

void ResponseParser::lineReceived(std::string_view line, ResponseSink& sink) {
  switch (state_) {
    case State::statusLine: statusLineReceived(line); return;
    case State::headers:
      if (line.empty()) {
        flushPendingField(head_.headers);
        headComplete(sink);
      } else {
        fieldLineReceived(line, head_.headers);
      }
      return;
    case State::chunkSize: chunkSizeReceived(line); return;
    case State::trailers:
      if (line.empty()) {
        flushPendingField(trailers_);
        complete(sink);
      } else {
        fieldLineReceived(line, trailers_);
      }
      return;
    default: throw std::logic_error("ResponseParser: a line in a state without lines");
  }
}

void ResponseParser::statusLineReceived(std::string_view line) {
  // HTTP/1.<digit> SP <3 digits> [SP reason]
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !detail::isDigit(line[5]) || line[6] != '.' ||
      !detail::isDigit(line[7]) || line[8] != ' ') {
    fail("the status line \"" + detail::printable(line) + "\" does not start with \"HTTP/<digit>.<digit> \"");
  }
  if (line[5] != '1') fail("HTTP version " + std::string(line.substr(5, 3)) + " is not supported (only HTTP/1.x)");
  const auto code = line.substr(9, 3);
  if (!detail::isDigit(code[0]) || !detail::isDigit(code[1]) || !detail::isDigit(code[2]) ||
      (line.size() > 12 && line[12] != ' ')) {
    fail("the status line \"" + detail::printable(line) + "\" has no 3-digit status code");
  }
  head_.code = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (head_.code < 100 || head_.code > 599) fail("the status code " + std::string(code) + " is not in 100..599");
  const auto phrase = line.size() > 12 ? line.substr(13) : std::string_view();
  for (char c : phrase) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) fail("the reason phrase contains " + detail::describeByte(c));
  }
  head_.versionMajor = 1;
  head_.versionMinor = line[7] - '0';
  head_.phrase = std::string(phrase);
  state_ = State::headers;
}

void ResponseParser::fieldLineReceived(std::string_view line, Headers& into) {
  if (isWhitespace(line.front())) {
    // obs-fold (RFC 9112 §5.2): the line continues the previous field's value.
    if (!pendingField_) fail("a line starting with whitespace where a header field should start");
    const auto more = trimWhitespace(line);
    checkFieldValue(more);
    if (!more.empty()) {
      if (!pendingField_->value.empty()) pendingField_->value += ' ';
      pendingField_->value.append(more);
    }
    return;
  }
  flushPendingField(into);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) fail("the header line \"" + detail::printable(line) + "\" has no ':'");
  const auto name = line.substr(0, colon);
  if (name.empty()) fail("a header line has an empty name");
  if (isWhitespace(name.back())) {
    fail("whitespace between the header name \"" + detail::printable(trimWhitespace(name)) +
         "\" and its colon (RFC 9112 §5.1)");
  }
  for (char c : name) {
    if (!detail::isTokenChar(c)) {
      fail("the header name \"" + detail::printable(name) + "\" contains " + detail::describeByte(c));
    }
  }
  const auto value = trimWhitespace(line.substr(colon + 1));
  checkFieldValue(value);
  pendingField_ = HeaderField{std::string(name), std::string(value)};
}

void ResponseParser::checkFieldValue(std::string_view value) const {
  // RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB; NUL and the other controls are refused.
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      fail("a header value contains " + detail::describeByte(c) + " (\"" + detail::printable(value) + "\")");
    }
  }
}

void ResponseParser::flushPendingField(Headers& into) {
  if (!pendingField_) return;
  into.add(pendingField_->name, pendingField_->value);
  pendingField_.reset();
}

void ResponseParser::headComplete(ResponseSink& sink) {
  if (head_.code == 101) fail("101 Switching Protocols: this client does not switch protocols");
  if (head_.code < 200) {
    // An interim response (100 Continue, 103 Early Hints): skipped; the next head follows.
    head_ = ResponseHead{};
    blockBytes_ = 0;
    state_ = State::statusLine;
    return;
  }
  chooseFraming();
  blockBytes_ = 0;  // from here it counts the trailer block
  State next = State::complete;
  switch (framing_) {
    case Framing::none: break;
    case Framing::contentLength: next = remaining_ == 0 ? State::complete : State::body; break;
    case Framing::chunked: next = State::chunkSize; break;
    case Framing::untilClose: next = State::bodyUntilClose; break;
  }
  // A body-less response completes only after its head has been delivered.
  if (next != State::complete) state_ = next;
  sink.headReceived(std::move(head_));
  if (next == State::complete) complete(sink);
}

void ResponseParser::chooseFraming() {
  const Headers& headers = head_.headers;
  bool close = false;
  bool keepAliveOption = false;
  for (const auto& field : headers) {
    if (!equalsIgnoringCase(field.name, "Connection")) continue;
    forEachListElement(field.value, [&](std::string_view option) {
      const auto token = lowerToken(option);
      close = close || token == "close";
      keepAliveOption = keepAliveOption || token == "keep-alive";
    });
  }
  closeAfter_ = close || (head_.versionMinor == 0 && !keepAliveOption);
  // A 2xx to CONNECT makes the connection a tunnel right after the head; its framing
  // fields mean nothing and must be ignored, malformed or not (RFC 9112 §6.3).
  if (requestKind_ == RequestKind::connect && head_.code >= 200 && head_.code < 300) {
    framing_ = Framing::none;
    closeAfter_ = true;
    return;
  }

  // A malformed or conflicting Content-Length is an error even where it frames nothing:
  // the server is broken, and the next response on the connection cannot be trusted.
  const bool hasLength = headers.has("Content-Length");
  const std::uint64_t length = hasLength ? contentLength() : 0;
  if (requestKind_ == RequestKind::head || head_.code == 204 || head_.code == 304) {
    framing_ = Framing::none;
    return;
  }
  if (headers.has("Transfer-Encoding")) {
    if (head_.versionMinor == 0) fail("Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1)");
    std::string last;
    for (const auto& field : headers) {
      if (equalsIgnoringCase(field.name, "Transfer-Encoding")) {
        forEachListElement(field.value, [&](std::string_view coding) { last = lowerToken(coding); });
      }
    }
    if (last.empty()) fail("an empty Transfer-Encoding");
    framing_ = last == "chunked" ? Framing::chunked : Framing::untilClose;
    // A message with both is a smuggling attempt or a broken proxy: never reuse (§6.3).
    if (hasLength || framing_ == Framing::untilClose) closeAfter_ = true;
    return;
  }
  if (hasLength) {
    framing_ = Framing::contentLength;
    remaining_ = length;
    if (remaining_ > limits_.maxBodyBytes) {
      throw ResponseTooLargeError("body (Content-Length: " + std::to_string(remaining_) + ")", limits_.maxBodyBytes);
    }
    return;
  }
  framing_ = Framing::untilClose;
  closeAfter_ = true;
}

std::uint64_t ResponseParser::contentLength() const {
  std::optional<std::uint64_t> length;
  bool overflow = false;
  for (const auto& field : head_.headers) {
    if (!equalsIgnoringCase(field.name, "Content-Length")) continue;
    bool any = false;
    forEachListElement(field.value, [&](std::string_view element) {
      any = true;
      std::uint64_t value = 0;
      for (char c : element) {
        if (!detail::isDigit(c)) fail("a malformed Content-Length \"" + detail::printable(field.value) + "\"");
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
        value = value * 10 + digit;
      }
      if (length && *length != value) {
        fail("conflicting Content-Length values " + std::to_string(*length) + " and " + std::string(element));
      }
      length = value;
    });
    if (!any) fail("an empty Content-Length");
  }
  if (overflow) throw ResponseTooLargeError("body (a Content-Length above 2^64)", limits_.maxBodyBytes);
  return *length;
}

void ResponseParser::chunkSizeReceived(std::string_view line) {
  std::size_t digits = 0;
  std::uint64_t size = 0;
  while (digits < line.size() && detail::isHexDigit(line[digits])) {
    if (digits == 16) fail("a chunk size of more than 16 hex digits");
    size = size * 16 + static_cast<std::uint64_t>(detail::hexValue(line[digits]));
    ++digits;
  }
  if (digits == 0) fail("the chunk-size line \"" + detail::printable(line) + "\" does not start with a hex number");
  const auto rest = trimWhitespace(line.substr(digits));
  if (!rest.empty() && rest.front() != ';') {
    fail("the chunk-size line \"" + detail::printable(line) + "\" has text after the size that is not an extension");
  }
  if (size == 0) {
    state_ = State::trailers;
    return;
  }
  if (size > limits_.maxBodyBytes - bodyBytes_) throw ResponseTooLargeError("body", limits_.maxBodyBytes);
  remaining_ = size;
  state_ = State::chunkData;
}

void ResponseParser::deliver(Bytes data, ResponseSink& sink) {
  // Up to the cap, then the error: the sink sees the same bytes however the input is cut.
  const std::uint64_t allowed = limits_.maxBodyBytes - bodyBytes_;
  const bool over = data.size() > allowed;
  if (over) data = data.substr(0, static_cast<std::size_t>(allowed));
  bodyBytes_ += data.size();
  if (!data.empty()) sink.bodyReceived(data);
  if (over) throw ResponseTooLargeError("body", limits_.maxBodyBytes);
}

void ResponseParser::complete(ResponseSink& sink) {
  state_ = State::complete;
  Headers trailers = std::move(trailers_);
  trailers_ = Headers{};
  sink.responseComplete(std::move(trailers));
}

void ResponseParser::connectionLost(ResponseSink& sink) {
  switch (state_) {
    case State::idle:
    case State::complete:
    case State::failed: return;
    case State::bodyUntilClose: try { complete(sink);
      } catch (...) {
        state_ = State::failed;
        throw;
      }
      return;
    default: break;
  }
  const State where = state_;
  state_ = State::failed;
  const auto received = std::to_string(responseBytes_);
  switch (where) {
    case State::statusLine:
      if (responseBytes_ == 0 && partial_.empty()) throw ResponseNeverReceivedError();
      [[fallthrough]];
    case State::headers:
      throw ResponseTruncatedError("The connection closed in the middle of the HTTP response head (after " + received +
                                   " bytes)");
    case State::body:
      throw ResponseTruncatedError("The connection closed after " + std::to_string(bodyBytes_) + " of " +
                                   std::to_string(bodyBytes_ + remaining_) + " bytes of the HTTP response body");
    default:
      throw ResponseTruncatedError("The connection closed in the middle of the chunked HTTP response body (after " +
                                   std::to_string(bodyBytes_) + " body bytes, before the last chunk and trailers)");
  }
}

bool ResponseParser::keepAlive() const noexcept { return state_ == State::complete && !closeAfter_; }

void ResponseParser::fail(const std::string& message) const {
  throw ResponseParseError("Malformed HTTP response: " + message + " (at byte " + std::to_string(lineOffset_) +
                           " of the response)");
}

}  // namespace torsion::http
