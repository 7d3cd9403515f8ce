// Test support for the HTTP parts: a sink that records what the parser delivers, and
// feeding a response in pieces of a chosen size.
#pragma once

#include <torsion/http/response_parser.hpp>

#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace torsion_test {

/// Records every call a ResponseParser makes.
class RecordingSink : public torsion::http::ResponseSink {
 public:
  void headReceived(torsion::http::ResponseHead head) override {
    events.push_back("head");
    heads.push_back(std::move(head));
  }
  void bodyReceived(torsion::Bytes data) override {
    if (events.empty() || events.back() != "body") events.push_back("body");
    body.append(data);
    ++bodyCalls;
    pieces.push_back(data);
  }
  void responseComplete(torsion::http::Headers trailers) override {
    events.push_back("complete");
    completions.push_back(std::move(trailers));
  }

  std::vector<std::string> events;
  std::vector<torsion::http::ResponseHead> heads;
  std::string body;
  std::size_t bodyCalls = 0;
  std::vector<torsion::Bytes> pieces;  // only valid while the fed bytes are
  std::vector<torsion::http::Headers> completions;
};

/// Feeds `input` in pieces of `piece` bytes (all at once when 0) until the parser
/// completes; returns how many bytes it consumed. Exceptions pass through.
inline std::size_t feedInPieces(torsion::http::ResponseParser& parser, std::string_view input, RecordingSink& sink,
                                std::size_t piece = 0) {
  std::size_t offset = 0;
  while (offset < input.size() && parser.state() != torsion::http::ResponseParser::State::complete) {
    const auto part = input.substr(offset, piece == 0 ? input.size() : piece);
    const auto used = parser.feed(part, sink);
    offset += used;
    if (used < part.size()) break;
  }
  return offset;
}

/// Everything observable about parsing `input` (fed in `piece`-byte pieces, then the
/// connection closed): the head, the body, the trailers, keepAlive, bytes consumed, or
/// the type and message of the error. Equal strings mean equal behaviour.
inline std::string describeParse(std::string_view input, std::size_t piece, std::string_view method = "GET",
                                 torsion::http::ResponseLimits limits = {}) {
  torsion::http::ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse(method);
  std::string out;
  try {
    const auto used = feedInPieces(parser, input, sink, piece);
    out += "consumed " + std::to_string(used) + "\n";
    parser.connectionLost(sink);
    out += parser.keepAlive() ? "keep-alive\n" : "close\n";
  } catch (const std::exception& error) {
    out += std::string("error ") + typeid(error).name() + ": " + error.what() + "\n";
  }
  for (const auto& head : sink.heads) {
    out += "head " + std::to_string(head.code) + " " + std::to_string(head.versionMinor) + " [" + head.phrase + "]\n";
    for (const auto& field : head.headers) out += "  " + field.name + ": " + field.value + "\n";
  }
  out += "body [" + sink.body + "]\n";
  for (const auto& trailers : sink.completions) {
    out += "complete\n";
    for (const auto& field : trailers) out += "  " + field.name + ": " + field.value + "\n";
  }
  return out;
}

}  // namespace torsion_test
