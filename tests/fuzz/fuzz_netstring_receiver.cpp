// Fuzzes NetstringReceiver: however the stream is cut into reads, the same strings and
// the same first error are reported as by a plain reference parser, nothing is
// delivered after an error, and what sendString writes parses back to the same strings.
#include <torsion/protocols/netstring_receiver.hpp>

#include <optional>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

using protocols::NetstringParseError;
using protocols::NetstringReceiver;
using Kind = NetstringParseError::Kind;

class Netstrings : public NetstringReceiver {
 public:
  Netstrings(std::size_t maxLength, bool keepOpen) : keepOpen_(keepOpen) { MAX_LENGTH = maxLength; }
  void stringReceived(Bytes message) override {
    events.push_back("S" + std::string(message));
    if (!message.empty() && message[0] == 'P') pauseProducing();
  }
  void handleParseError(const NetstringParseError& error) override {
    events.push_back("E" + std::to_string(static_cast<int>(error.kind())));
    if (!keepOpen_) NetstringReceiver::handleParseError(error);
  }
  std::vector<std::string> events;

 private:
  bool keepOpen_;
};

std::string error(Kind kind) { return "E" + std::to_string(static_cast<int>(kind)); }

std::vector<std::string> reference(std::string_view stream, std::size_t maxLength) {
  std::vector<std::string> events;
  while (!stream.empty()) {
    std::size_t digits = 0;
    std::size_t length = 0;
    while (digits < stream.size() && stream[digits] >= '0' && stream[digits] <= '9') {
      if (digits == 1 && stream[0] == '0') {
        events.push_back(error(Kind::leadingZero));
        return events;
      }
      length = length * 10 + static_cast<std::size_t>(stream[digits] - '0');
      if (length > maxLength) {
        events.push_back(error(Kind::tooLong));
        return events;
      }
      ++digits;
    }
    if (digits == stream.size()) return events;  // more digits may come
    if (digits == 0) {
      events.push_back(error(Kind::missingLength));
      return events;
    }
    if (stream[digits] != ':') {
      events.push_back(error(Kind::missingColon));
      return events;
    }
    stream.remove_prefix(digits + 1);
    if (stream.size() <= length) return events;
    if (stream[length] != ',') {
      events.push_back(error(Kind::missingComma));
      return events;
    }
    events.push_back("S" + std::string(stream.substr(0, length)));
    stream.remove_prefix(length + 1);
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
  const std::uint32_t seed = input.byte();
  const bool keepOpen = (mode & 1) != 0;
  const std::size_t maxLength = (mode & 0x80) ? 99999 : (mode >> 1) % 64;
  const std::string_view stream = input.rest();

  Connected<Netstrings> cut(maxLength, keepOpen);
  cut.feed(chunks(stream, seed));
  if (cut.protocol.events != reference(stream, maxLength)) fail("NetstringReceiver: not the reference netstrings");
  if (!keepOpen && !cut.protocol.events.empty() && cut.protocol.events.back()[0] == 'E' &&
      !cut.transport->disconnecting()) {
    fail("NetstringReceiver: an error did not drop the connection");
  }

  Connected<Netstrings> echo(99999, false);
  std::vector<std::string> sent;
  for (const auto& event : cut.protocol.events) {
    if (event[0] != 'S') continue;
    echo.protocol.sendString(std::string_view(event).substr(1));
    sent.push_back(event);
  }
  Connected<Netstrings> back(99999, false);
  back.feed(chunks(echo.transport->value(), seed + 1));
  if (back.protocol.events != sent) fail("NetstringReceiver: sendString does not round-trip");
  return 0;
}
