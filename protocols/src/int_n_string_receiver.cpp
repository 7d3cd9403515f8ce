#include <torsion/protocols/int_n_string_receiver.hpp>

#include "receiver_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace torsion::protocols {

IntNStringReceiver::IntNStringReceiver(std::size_t prefixLength, ByteOrder byteOrder)
    : prefixLength_(prefixLength), byteOrder_(byteOrder) {
  if (prefixLength < 1 || prefixLength > 8) {
    throw std::invalid_argument(
        fmt::format("IntNStringReceiver: prefix length {} is not between 1 and 8 bytes", prefixLength));
  }
}

std::uint64_t IntNStringReceiver::maxPrefixValue() const noexcept {
  return prefixLength_ >= 8 ? UINT64_MAX : (std::uint64_t{1} << (8 * prefixLength_)) - 1;
}

std::uint64_t IntNStringReceiver::decodePrefix(Bytes prefix) const noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < prefixLength_; ++i) {
    const std::size_t index = byteOrder_ == ByteOrder::network ? i : prefixLength_ - 1 - i;
    value = (value << 8) | static_cast<unsigned char>(prefix[index]);
  }
  return value;
}

// Inline, and defined before its one caller, so that it compiles into the loop of
// detail::receive as the hand-written loops it replaced did.
inline bool IntNStringReceiver::parseNext() {
  const Bytes available = input_.unconsumed();
  if (skipping_ > 0) {
    const std::size_t skipped = static_cast<std::size_t>(std::min<std::uint64_t>(skipping_, available.size()));
    input_.consume(skipped);
    skipping_ -= skipped;
    return skipping_ == 0;
  }
  if (available.size() < prefixLength_) return false;
  const std::uint64_t length = decodePrefix(available);
  if (length > MAX_LENGTH) {
    // Consume the prefix and skip the body as it arrives: if the override keeps the
    // connection open, the next prefix is read where it really is, and nothing
    // already delivered is parsed again (Twisted re-parses its buffer here).
    input_.consume(prefixLength_);
    skipping_ = length;
    lengthLimitExceeded(length);
    return true;
  }
  const std::size_t size = static_cast<std::size_t>(length);
  if (available.size() - prefixLength_ < size) return false;
  input_.consume(prefixLength_ + size);
  stringReceived(available.substr(prefixLength_, size));
  return true;
}

void IntNStringReceiver::dataReceived(Bytes data) {
  detail::receive(*this, input_, data, [this] { return parseNext(); });
}

void IntNStringReceiver::lengthLimitExceeded(std::uint64_t length) {
  detail::refuseInput(*this, fmt::format("Int{}StringReceiver", 8 * prefixLength_),
                      fmt::format("announced a {}-byte string, more than MAX_LENGTH ({} bytes)", length, MAX_LENGTH));
}

void IntNStringReceiver::sendString(Bytes message) {
  if (message.size() > maxPrefixValue()) {
    throw StringTooLongError(fmt::format("sendString: {} bytes do not fit a {}-byte length prefix (at most {})",
                                         message.size(), prefixLength_, maxPrefixValue()));
  }
  char prefix[8];
  std::uint64_t value = message.size();
  for (std::size_t i = 0; i < prefixLength_; ++i) {
    const std::size_t index = byteOrder_ == ByteOrder::network ? prefixLength_ - 1 - i : i;
    prefix[index] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  const Bytes parts[] = {Bytes(prefix, prefixLength_), message};
  transport().writeSequence(parts);
}

}  // namespace torsion::protocols
