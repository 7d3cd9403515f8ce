// Fuzzes IntNStringReceiver: for every prefix width and byte order, and however the
// stream is cut into reads, the same strings and limit events are delivered as by a
// plain reference decoder, oversized strings are skipped consistently when the
// connection is kept open, and what sendString writes parses back to the same strings.
#include <torsion/protocols/int_n_string_receiver.hpp>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

using protocols::ByteOrder;
using protocols::IntNStringReceiver;

class Strings : public IntNStringReceiver {
 public:
  Strings(std::size_t width, ByteOrder order, std::size_t maxLength, bool keepOpen)
      : IntNStringReceiver(width, order), keepOpen_(keepOpen) {
    MAX_LENGTH = maxLength;
  }
  void stringReceived(Bytes message) override {
    events.push_back("S" + std::string(message));
    if (!message.empty() && message[0] == 'P') pauseProducing();
    if (!message.empty() && message[0] == 'Q') transport().loseConnection();
  }
  void lengthLimitExceeded(std::uint64_t length) override {
    events.push_back("X" + std::to_string(length));
    if (!keepOpen_) IntNStringReceiver::lengthLimitExceeded(length);
  }
  std::vector<std::string> events;

 private:
  bool keepOpen_;
};

std::uint64_t decode(std::string_view bytes, std::size_t width, ByteOrder order) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[order == ByteOrder::network ? i : width - 1 - i]);
    value = value * 256 + byte;
  }
  return value;
}

std::vector<std::string> reference(std::string_view stream, std::size_t width, ByteOrder order, std::size_t maxLength,
                                   bool keepOpen) {
  std::vector<std::string> events;
  while (stream.size() >= width) {
    const std::uint64_t length = decode(stream, width, order);
    stream.remove_prefix(width);
    if (length > maxLength) {
      events.push_back("X" + std::to_string(length));
      if (!keepOpen) break;
      stream.remove_prefix(std::min<std::uint64_t>(length, stream.size()));
      continue;
    }
    if (stream.size() < length) break;
    const std::string_view message = stream.substr(0, length);
    events.push_back("S" + std::string(message));
    if (!message.empty() && message[0] == 'Q') break;
    stream.remove_prefix(length);
  }
  return events;
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion::fuzz;
  silenceLogs();
  Input input(data, size);
  const std::uint8_t mode = input.byte();
  const std::uint8_t limit = input.byte();
  const std::uint32_t seed = input.byte();
  constexpr std::size_t kWidths[] = {1, 2, 4, 8};
  const std::size_t width = kWidths[mode % 4];
  const ByteOrder order = (mode & 4) ? ByteOrder::little : ByteOrder::network;
  const bool keepOpen = (mode & 8) != 0;
  const std::size_t maxLength = (limit & 0x80) ? 99999 : limit % 64;
  const std::string_view stream = input.rest();

  Connected<Strings> cut(width, order, maxLength, keepOpen);
  cut.feed(chunks(stream, seed));
  if (cut.protocol.events != reference(stream, width, order, maxLength, keepOpen)) {
    fail("IntNStringReceiver: not the reference strings");
  }

  // What sendString writes must parse back to the same strings.
  Connected<Strings> echo(width, order, 99999, false);
  std::vector<std::string> sent;
  for (const auto& event : cut.protocol.events) {
    if (event[0] != 'S' || event.size() - 1 > echo.protocol.maxPrefixValue()) continue;
    echo.protocol.sendString(std::string_view(event).substr(1));
    sent.push_back(event);
    if (event.size() > 1 && event[1] == 'Q') break;
  }
  Connected<Strings> back(width, order, 99999, false);
  back.feed(chunks(echo.transport->value(), seed + 1));
  if (back.protocol.events != sent) fail("IntNStringReceiver: sendString does not round-trip");
  return 0;
}
