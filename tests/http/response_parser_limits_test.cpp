// ResponseParser's caps: the header block, the body (announced or streamed), chunk-size
// lines and trailers fail at their cap, at once, without the parser growing.
#include <torsion/http/response_parser.hpp>

#include <gtest/gtest.h>

#include <string>

#include "http_test_support.hpp"

namespace {

using torsion::http::ResponseLimits;
using torsion::http::ResponseParser;
using torsion::http::ResponseTooLargeError;
using torsion_test::RecordingSink;
using State = ResponseParser::State;

constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

// Feeds `input` in pieces of `piece` bytes until the parser throws ResponseTooLargeError;
// returns how many bytes had been fed, including the piece that threw.
std::size_t bytesFedUntilTooLarge(ResponseParser& parser, std::string_view input, RecordingSink& sink,
                                  std::size_t piece, std::string& what) {
  std::size_t offset = 0;
  try {
    while (offset < input.size()) {
      const auto part = input.substr(offset, piece);
      offset += part.size();
      parser.feed(part, sink);
    }
  } catch (const ResponseTooLargeError& error) {
    what = error.what();
    EXPECT_EQ(parser.state(), State::failed);
    return offset;
  }
  ADD_FAILURE() << "no ResponseTooLargeError";
  return offset;
}

TEST(ResponseParserLimits, AGigabyteContentLengthFailsAtTheHead) {
  ResponseLimits limits;
  limits.maxBodyBytes = 1024 * 1024;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  // Only the head is fed: the error must not wait for (or reserve room for) the body.
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kGiB) + "\r\n\r\n";
  try {
    parser.feed(head, sink);
    FAIL() << "no error";
  } catch (const ResponseTooLargeError& error) {
    EXPECT_EQ(error.limit(), limits.maxBodyBytes);
    const std::string what = error.what();
    EXPECT_NE(what.find("1073741824"), std::string::npos) << what;
    EXPECT_NE(what.find("1048576"), std::string::npos) << what;
  }
  EXPECT_TRUE(sink.heads.empty());
  EXPECT_EQ(sink.bodyCalls, 0u);
}

TEST(ResponseParserLimits, AContentLengthAbove64BitsIsTooLarge) {
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse("GET");
  EXPECT_THROW(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", sink),
               ResponseTooLargeError);
}

TEST(ResponseParserLimits, ContentLengthAtTheCapIsAccepted) {
  ResponseLimits limits;
  limits.maxBodyBytes = 5;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", sink);
  EXPECT_EQ(parser.state(), State::complete);
}

TEST(ResponseParserLimits, AMegabyteOfHeadersFailsAtTheCap) {
  std::string input = "HTTP/1.1 200 OK\r\n";
  while (input.size() < 1024 * 1024) input += "X-Filler: " + std::string(1000, 'a') + "\r\n";
  input += "\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{4096}, input.size()}) {
    ResponseParser parser;
    RecordingSink sink;
    parser.startResponse("GET");
    std::string what;
    const auto fed = bytesFedUntilTooLarge(parser, input, sink, piece, what);
    EXPECT_LE(fed, ResponseLimits{}.maxHeaderBytes + piece) << piece;
    EXPECT_NE(what.find("header block"), std::string::npos) << what;
    EXPECT_NE(what.find("65536"), std::string::npos) << what;
    EXPECT_TRUE(sink.heads.empty());
  }
}

TEST(ResponseParserLimits, OneEndlessHeaderLineFailsAtTheCap) {
  const std::string input = "HTTP/1.1 200 OK\r\nX: " + std::string(1024 * 1024, 'b');
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse("GET");
  std::string what;
  EXPECT_LE(bytesFedUntilTooLarge(parser, input, sink, 1000, what), ResponseLimits{}.maxHeaderBytes + 1000);
}

TEST(ResponseParserLimits, HeaderBlockExactlyAtTheCapIsAccepted) {
  std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ";
  ResponseLimits limits;
  limits.maxHeaderBytes = 200;
  input += std::string(limits.maxHeaderBytes - input.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(input.size(), limits.maxHeaderBytes);
  {
    ResponseParser parser(limits);
    RecordingSink sink;
    parser.startResponse("GET");
    parser.feed(input, sink);
    EXPECT_EQ(parser.state(), State::complete);
  }
  limits.maxHeaderBytes -= 1;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  EXPECT_THROW(parser.feed(input, sink), ResponseTooLargeError);
}

TEST(ResponseParserLimits, EachInterimHeadHasItsOwnBudget) {
  ResponseLimits limits;
  limits.maxHeaderBytes = 100;
  std::string input;
  for (int i = 0; i < 50; ++i) input += "HTTP/1.1 100 Continue\r\nX: " + std::string(40, 'c') + "\r\n\r\n";
  input += "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  EXPECT_EQ(parser.feed(input, sink), input.size());
  EXPECT_EQ(parser.state(), State::complete);
}

TEST(ResponseParserLimits, AnAnnouncedChunkPastTheCapFailsBeforeItsData) {
  ResponseLimits limits;
  limits.maxBodyBytes = 10;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n", sink);
  EXPECT_THROW(parser.feed("3\r\n", sink), ResponseTooLargeError);
  EXPECT_EQ(sink.body, "12345678");
}

TEST(ResponseParserLimits, AnUntilCloseBodyFailsWhenItPassesTheCap) {
  ResponseLimits limits;
  limits.maxBodyBytes = 10;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\n\r\n0123456", sink);
  parser.feed("789", sink);
  EXPECT_THROW(parser.feed("X", sink), ResponseTooLargeError);
  EXPECT_EQ(sink.body, "0123456789");

  // Fed at once, the sink still gets the body up to the cap before the error.
  ResponseParser whole(limits);
  RecordingSink wholeSink;
  whole.startResponse("GET");
  EXPECT_THROW(whole.feed("HTTP/1.1 200 OK\r\n\r\n0123456789XYZ", wholeSink), ResponseTooLargeError);
  EXPECT_EQ(wholeSink.body, "0123456789");
}

TEST(ResponseParserLimits, ChunkSizeLinesAreCapped) {
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", sink);
  std::string what;
  const std::string line = "5;" + std::string(1024 * 1024, 'e');
  EXPECT_LE(bytesFedUntilTooLarge(parser, line, sink, 512, what), ResponseLimits{}.maxChunkLineBytes + 512);
  EXPECT_NE(what.find("chunk-size line"), std::string::npos) << what;
}

TEST(ResponseParserLimits, TrailersAreCapped) {
  ResponseLimits limits;
  limits.maxHeaderBytes = 100;
  ResponseParser parser(limits);
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", sink);
  std::string input;
  for (int i = 0; i < 100; ++i) input += "T: 1\r\n";
  std::string what;
  EXPECT_LE(bytesFedUntilTooLarge(parser, input, sink, 1, what), 101u);
  EXPECT_NE(what.find("trailer"), std::string::npos) << what;
}

}  // namespace
