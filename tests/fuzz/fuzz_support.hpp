// Helpers shared by the framing parsers' fuzz targets.
#pragma once

#include <torsion/log.hpp>
#include <torsion/protocol.hpp>
#include <torsion/testing/string_transport.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace torsion::fuzz {

/// Reads configuration bytes from the front of a fuzz input; what is left is the stream.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  /// The next byte, or 0 once the input is exhausted.
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }

  /// What has not been read as configuration.
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

/// Cuts `stream` into reads whose sizes come from a small generator seeded by `seed`
/// (so the stream's bytes all stay data): mostly short reads, sometimes long ones.
inline std::vector<std::string_view> chunks(std::string_view stream, std::uint32_t seed) {
  std::vector<std::string_view> pieces;
  std::uint32_t state = seed * 2654435761u + 1;
  while (!stream.empty()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::size_t size = (state % 8 == 0) ? 1 + state % 300 : 1 + state % 7;
    pieces.push_back(stream.substr(0, size));
    stream.remove_prefix(std::min(size, stream.size()));
  }
  return pieces;
}

/// Stops the fuzzer with a message: a property of the parser does not hold.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

/// Keeps the parsers' warnings (a refused peer is logged) out of the fuzzer's output.
inline void silenceLogs() {
  static const bool once = [] {
    log::setLevel(log::Level::error);
    return true;
  }();
  (void)once;
}

/// A protocol connected to its own StringTransport.
template <class P>
struct Connected {
  std::shared_ptr<testing::StringTransport> transport = std::make_shared<testing::StringTransport>();
  P protocol;

  template <class... Args>
  explicit Connected(Args&&... args) : protocol(std::forward<Args>(args)...) {
    transport->makeConnection(protocol);
  }

  /// Feeds each piece as one read, resuming the protocol after each whenever it paused
  /// itself (as an application would, later).
  void feed(const std::vector<std::string_view>& pieces) {
    for (auto piece : pieces) {
      protocol.dataReceived(piece);
      drain();
    }
  }

  void drain() {
    for (int guard = 0; protocol.paused() && guard < 1000000; ++guard) protocol.resumeProducing();
  }
};

}  // namespace torsion::fuzz
