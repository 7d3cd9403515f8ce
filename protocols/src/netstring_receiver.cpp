#include <torsion/protocols/netstring_receiver.hpp>

#include "receiver_support.hpp"

#include <fmt/format.h>

#include <charconv>

namespace torsion::protocols {

using Kind = NetstringParseError::Kind;

// Inline, and defined before its one caller, so that it compiles into the loop of
// detail::receive as the hand-written loops it replaced did.
inline bool NetstringReceiver::parseNext() {
  if (brokenPeer_) {
    input_.discardAll();
    return false;
  }
  if (!inPayload_ && !parseLength()) return false;
  const Bytes available = input_.unconsumed();
  if (available.size() <= length_) return false;  // the payload and its comma are not all here
  if (available[length_] != ',') {
    fail(Kind::missingComma, "the netstring's payload is not followed by ','");
    return true;
  }
  const std::size_t size = length_;
  input_.consume(size + 1);
  inPayload_ = false;
  length_ = 0;
  digits_ = 0;
  stringReceived(available.substr(0, size));
  return true;
}

void NetstringReceiver::dataReceived(Bytes data) {
  detail::receive(*this, input_, data, [this] { return parseNext(); });
}

// Reads length digits as they arrive (they need no buffering); true once the ':' is
// consumed, false if more input is needed or the input is invalid.
bool NetstringReceiver::parseLength() {
  const Bytes available = input_.unconsumed();
  for (std::size_t i = 0; i < available.size(); ++i) {
    const char c = available[i];
    if (c == ':') {
      if (digits_ == 0) break;
      input_.consume(i + 1);
      inPayload_ = true;
      return true;
    }
    if (c < '0' || c > '9') {
      input_.consume(i);
      if (digits_ == 0) break;
      fail(Kind::missingColon, "the netstring's length is not followed by ':'");
      return false;
    }
    if (digits_ > 0 && length_ == 0) {
      fail(Kind::leadingZero, "the netstring's length has a leading zero");
      return false;
    }
    const std::size_t digit = static_cast<std::size_t>(c - '0');
    // length_ * 10 + digit > MAX_LENGTH, written so that it cannot overflow.
    if (MAX_LENGTH < digit || length_ > (MAX_LENGTH - digit) / 10) {
      fail(Kind::tooLong, fmt::format("the netstring is longer than MAX_LENGTH ({} bytes)", MAX_LENGTH));
      return false;
    }
    length_ = length_ * 10 + digit;
    ++digits_;
    if (i + 1 == available.size()) {
      input_.consumeAll();
      return false;
    }
  }
  if (!available.empty()) fail(Kind::missingLength, "the netstring does not start with a length");
  return false;
}

void NetstringReceiver::fail(Kind kind, const std::string& message) {
  brokenPeer_ = true;
  input_.discardAll();
  handleParseError(NetstringParseError(kind, message));
}

void NetstringReceiver::handleParseError(const NetstringParseError& error) {
  detail::refuseInput(*this, "NetstringReceiver", error.what());
}

void NetstringReceiver::sendString(Bytes message) {
  char head[24];
  auto [end, ec] = std::to_chars(head, head + sizeof head - 1, message.size());
  (void)ec;  // 20 digits always fit
  *end++ = ':';
  const Bytes parts[] = {Bytes(head, static_cast<std::size_t>(end - head)), message, Bytes(",")};
  transport().writeSequence(parts);
}

}  // namespace torsion::protocols
