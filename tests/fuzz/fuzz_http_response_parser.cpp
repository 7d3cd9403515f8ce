// Fuzzes ResponseParser: a stream of pipelined responses parses to the same transcript
// (heads, body bytes, trailers, keep-alive, the error) whether fed whole or cut at random
// points; no response's body passes its cap; nothing but the typed HTTP errors escapes.
#include <torsion/http/response_parser.hpp>

#include <string>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

using http::ResponseParser;

class Transcript : public http::ResponseSink {
 public:
  explicit Transcript(std::uint64_t maxBody) : maxBody_(maxBody) {}

  void headReceived(http::ResponseHead head) override {
    text += "H" + std::to_string(head.code) + " " + std::to_string(head.versionMinor) + " " + head.phrase + "\n";
    for (const auto& field : head.headers) text += field.name + ":" + field.value + "\n";
    body_ = 0;
  }
  void bodyReceived(Bytes data) override {
    if (data.empty()) fail("an empty body piece");
    body_ += data.size();
    if (body_ > maxBody_) fail("more body bytes than maxBodyBytes");
    text.append(data);
  }
  void responseComplete(http::Headers trailers) override {
    text += "\nC";
    for (const auto& field : trailers) text += field.name + ":" + field.value + "\n";
  }

  std::string text;

 private:
  std::uint64_t maxBody_;
  std::uint64_t body_ = 0;
};

// Feeds the pieces as reads from one connection, starting the next response whenever
// one completes, then closes the connection.
std::string run(const std::vector<std::string_view>& pieces, std::string_view method, http::ResponseLimits limits) {
  ResponseParser parser(limits);
  Transcript sink(limits.maxBodyBytes);
  parser.startResponse(method);
  try {
    for (auto piece : pieces) {
      while (!piece.empty()) {
        if (parser.state() == ResponseParser::State::complete) {
          sink.text += parser.keepAlive() ? "K\n" : "N\n";
          parser.startResponse(method);
        }
        const auto used = parser.feed(piece, sink);
        if (used > piece.size()) fail("feed consumed more than it was given");
        if (used < piece.size() && parser.state() != ResponseParser::State::complete) {
          fail("feed stopped early without completing");
        }
        piece.remove_prefix(used);
      }
    }
    parser.connectionLost(sink);
    sink.text += "END\n";
  } catch (const http::HttpError& error) {
    if (parser.state() != ResponseParser::State::failed) fail("an error left the parser usable");
    sink.text += std::string("E ") + error.what() + "\n";
  } catch (...) {
    fail("an exception that is not an HttpError");
  }
  return sink.text;
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion::fuzz;
  Input input(data, size);
  const auto flags = input.byte();
  torsion::http::ResponseLimits limits;
  limits.maxHeaderBytes = 16 + input.byte() * 4u;
  const auto bodyCap = input.byte();
  if (bodyCap != 255) limits.maxBodyBytes = bodyCap * 2u;
  limits.maxChunkLineBytes = 4 + input.byte() % 64u;
  const auto seed = input.byte();
  const std::string_view method = (flags & 1) ? "HEAD" : "GET";
  const auto stream = input.rest();
  const auto whole = run({stream}, method, limits);
  const auto split = run(chunks(stream, seed), method, limits);
  if (whole != split) {
    std::fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", whole.c_str(), split.c_str());
    fail("whole and split feeding disagree");
  }
  return 0;
}
