// Fuzzes LineReceiver and LineOnlyReceiver: whatever the bytes and however they are cut
// into reads, the receivers deliver the same lines, raw data and limit events as when
// the stream arrives in one read, and (without mode switches) exactly the lines of a
// straightforward reference split.
#include <torsion/protocols/line_receiver.hpp>

#include <algorithm>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

using protocols::LineOnlyReceiver;
using protocols::LineReceiver;

constexpr std::string_view kDelimiters[] = {"\r\n", "\n", "abc", std::string_view("\0", 1)};

// Records what it is given; in scripted mode, lines starting with R, P or Q switch to raw
// mode for a few bytes, pause, or close the connection.
class Lines : public LineReceiver {
 public:
  Lines(std::string_view delimiterToUse, std::size_t maxLength, bool scripted, bool keepOpen)
      : scripted_(scripted), keepOpen_(keepOpen) {
    delimiter = std::string(delimiterToUse);
    MAX_LENGTH = maxLength;
  }

  void lineReceived(Bytes line) override {
    events.push_back("L" + std::string(line));
    if (!scripted_ || line.empty()) return;
    if (line[0] == 'R' && line.size() > 1) {
      rawLeft_ = static_cast<unsigned char>(line[1]) % 16;
      if (rawLeft_ > 0) setRawMode();
    } else if (line[0] == 'P') {
      pauseProducing();
    } else if (line[0] == 'Q') {
      transport().loseConnection();
    } else if (line[0] == 'C' && keepOpen_) {
      (void)clearLineBuffer();  // makes the outcome depend on reads: only when not compared
    }
  }

  void rawDataReceived(Bytes data) override {
    const std::size_t take = std::min(rawLeft_, data.size());
    if (events.empty() || events.back()[0] != 'W') events.emplace_back("W");
    events.back().append(data.substr(0, take));
    rawLeft_ -= take;
    if (rawLeft_ == 0) setLineMode(data.substr(take));
  }

  void lineLengthExceeded(Bytes data) override {
    events.emplace_back("X");
    if (!keepOpen_) {
      LineReceiver::lineLengthExceeded(data);
    } else {
      setLineMode(data.substr(std::min(data.size(), MAX_LENGTH + 1)));  // resume after the limit
    }
  }

  std::vector<std::string> events;

 private:
  bool scripted_;
  bool keepOpen_;
  std::size_t rawLeft_ = 0;
};

class OnlyLines : public LineOnlyReceiver {
 public:
  OnlyLines(std::string_view delimiterToUse, std::size_t maxLength) {
    delimiter = std::string(delimiterToUse);
    MAX_LENGTH = maxLength;
  }
  void lineReceived(Bytes line) override { events.push_back("L" + std::string(line)); }
  void lineLengthExceeded(Bytes data) override {
    events.emplace_back("X");
    LineOnlyReceiver::lineLengthExceeded(data);
  }
  bool paused() const { return false; }
  void resumeProducing() {}
  std::vector<std::string> events;
};

// The lines of `stream`, written as plainly as possible.
std::vector<std::string> reference(std::string_view stream, std::string_view delimiter, std::size_t maxLength) {
  std::vector<std::string> events;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = stream.find(delimiter, start);
    const std::size_t available = stream.size() - start;
    if (end == std::string_view::npos) {
      if (available >= delimiter.size() && available - delimiter.size() >= maxLength) events.emplace_back("X");
      return events;
    }
    if (end - start > maxLength) {
      events.emplace_back("X");
      return events;
    }
    events.push_back("L" + std::string(stream.substr(start, end - start)));
    start = end + delimiter.size();
  }
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion::fuzz;
  silenceLogs();
  Input input(data, size);
  const std::uint8_t mode = input.byte();
  const std::uint8_t limit = input.byte();
  const std::uint32_t seed = input.byte() | (std::uint32_t{input.byte()} << 8);
  const std::string_view delimiter = kDelimiters[mode % 4];
  const bool scripted = (mode & 4) != 0;
  const std::size_t maxLength = (limit & 0x80) ? 16384 : limit % 40;
  const std::string_view stream = input.rest();
  const auto pieces = chunks(stream, seed);

  if ((mode & 8) != 0) {
    // Overrides that keep the connection open: checked for memory safety only.
    Connected<Lines> keeping(delimiter, maxLength, scripted, true);
    keeping.feed(pieces);
    return 0;
  }

  Connected<Lines> whole(delimiter, maxLength, scripted, false);
  Connected<Lines> cut(delimiter, maxLength, scripted, false);
  whole.feed({stream});
  cut.feed(pieces);
  if (whole.protocol.events != cut.protocol.events) fail("LineReceiver: the lines depend on how reads are cut");
  if (whole.transport->disconnecting() != cut.transport->disconnecting()) fail("LineReceiver: disconnecting differs");
  if (!scripted) {
    if (whole.protocol.events != reference(stream, delimiter, maxLength)) fail("LineReceiver: not the reference lines");
    Connected<OnlyLines> only(delimiter, maxLength);
    only.feed(pieces);
    if (only.protocol.events != whole.protocol.events) fail("LineOnlyReceiver differs from LineReceiver");
  }
  return 0;
}
