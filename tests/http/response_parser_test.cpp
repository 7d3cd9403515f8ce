// ResponseParser: framing (RFC 9112 §6), interim responses, keep-alive, strictness, and
// the same results however the bytes are cut.
#include <torsion/http/response_parser.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "http_test_support.hpp"

namespace {

using torsion::http::ResponseLimits;
using torsion::http::ResponseNeverReceivedError;
using torsion::http::ResponseParseError;
using torsion::http::ResponseParser;
using torsion::http::ResponseTruncatedError;
using torsion_test::describeParse;
using torsion_test::feedInPieces;
using torsion_test::RecordingSink;
using State = ResponseParser::State;
using namespace std::string_literals;

struct Parsed {
  ResponseParser parser;
  RecordingSink sink;
  std::size_t consumed = 0;
};

// Parses a whole response that must be valid and complete.
void parse(Parsed& p, std::string_view input, std::string_view method = "GET") {
  p.parser.startResponse(method);
  p.consumed = feedInPieces(p.parser, input, p.sink);
}

template <class E = ResponseParseError>
std::string parseError(std::string_view input, std::string_view method = "GET") {
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse(method);
  try {
    feedInPieces(parser, input, sink);
    parser.connectionLost(sink);
  } catch (const E& error) {
    EXPECT_EQ(parser.state(), State::failed);
    return error.what();
  }
  ADD_FAILURE() << "no error for: " << input;
  return {};
}

TEST(ResponseParser, ContentLengthBody) {
  Parsed p;
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello";
  parse(p, input);
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.consumed, input.size());
  EXPECT_EQ(p.sink.events, (std::vector<std::string>{"head", "body", "complete"}));
  const auto& head = p.sink.heads.at(0);
  EXPECT_EQ(head.code, 200);
  EXPECT_EQ(head.phrase, "OK");
  EXPECT_EQ(head.versionMajor, 1);
  EXPECT_EQ(head.versionMinor, 1);
  EXPECT_EQ(head.headers.get("content-length"), "5");
  EXPECT_EQ(head.headers.get("x-a"), "1");
  EXPECT_EQ(p.sink.body, "hello");
  EXPECT_TRUE(p.sink.completions.at(0).empty());
  EXPECT_TRUE(p.parser.keepAlive());
  EXPECT_EQ(p.parser.bodyBytesReceived(), 5u);
}

TEST(ResponseParser, A2xxToConnectEndsWithItsHeadAndItsFramingIsIgnored) {
  // RFC 9112 §6.3: the tunnel starts right after the head; the bytes after it are the
  // tunnel's, and a Content-Length or Transfer-Encoding there means nothing.
  for (const std::string framing :
       {"Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: nonsense\r\n", ""}) {
    ResponseParser parser;
    RecordingSink sink;
    parser.startResponse("CONNECT");
    const std::string head = "HTTP/1.1 200 Connection established\r\n" + framing + "\r\n";
    const std::string input = head + "\x16\x03\x01tunnel bytes";
    EXPECT_EQ(parser.feed(input, sink), head.size()) << framing;
    EXPECT_EQ(parser.state(), State::complete) << framing;
    EXPECT_EQ(sink.events, (std::vector<std::string>{"head", "complete"})) << framing;
    EXPECT_FALSE(parser.keepAlive()) << "a tunnel never carries another HTTP response";
  }
  // A refusal is an ordinary response with its body.
  Parsed refused;
  parse(refused, "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope", "CONNECT");
  EXPECT_EQ(refused.sink.body, "nope");
  EXPECT_EQ(refused.sink.heads.at(0).code, 403);
}

TEST(ResponseParser, BodyBytesAreViewsOfTheInputNotCopies) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
  Parsed p;
  parse(p, input);
  ASSERT_EQ(p.sink.pieces.size(), 2u);
  for (auto piece : p.sink.pieces) {
    EXPECT_GE(piece.data(), input.data());
    EXPECT_LE(piece.data() + piece.size(), input.data() + input.size());
  }
  EXPECT_EQ(p.sink.body, "hello world");
}

TEST(ResponseParser, ChunkedWithExtensionsAndTrailers) {
  Parsed p;
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "A;name=value;other\r\n0123456789\r\n1 ; ext\r\nx\r\nfF\r\n" +
      std::string(255, 'z') + "\r\n0\r\nX-Checksum: abc\r\nX-Other:  2 \r\n\r\n";
  parse(p, input);
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.consumed, input.size());
  EXPECT_EQ(p.sink.body, "0123456789x" + std::string(255, 'z'));
  const auto& trailers = p.sink.completions.at(0);
  EXPECT_EQ(trailers.get("x-checksum"), "abc");
  EXPECT_EQ(trailers.get("X-Other"), "2");
  EXPECT_TRUE(p.parser.keepAlive());
}

TEST(ResponseParser, UntilCloseBodyEndsWithTheConnection) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome text");
  EXPECT_EQ(p.parser.state(), State::bodyUntilClose);
  EXPECT_EQ(p.sink.body, "some text");
  EXPECT_TRUE(p.sink.completions.empty());
  p.parser.connectionLost(p.sink);
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.sink.completions.size(), 1u);
  EXPECT_FALSE(p.parser.keepAlive());
}

TEST(ResponseParser, NoBodyForHead204And304) {
  for (const auto& [method, input] : std::vector<std::pair<std::string, std::string>>{
           {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
           {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
           {"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n"},
           {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"},
           {"GET", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"}}) {
    Parsed p;
    const std::string next = "HTTP/1.1 200 OK\r\n";
    parse(p, input + next, method);
    EXPECT_EQ(p.parser.state(), State::complete) << input;
    EXPECT_EQ(p.consumed, input.size()) << input;
    EXPECT_EQ(p.sink.events, (std::vector<std::string>{"head", "complete"})) << input;
    EXPECT_TRUE(p.parser.keepAlive()) << input;
  }
}

TEST(ResponseParser, ContentLengthZeroCompletesWithTheHead) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.sink.events, (std::vector<std::string>{"head", "complete"}));
}

TEST(ResponseParser, InterimResponsesAreSkipped) {
  Parsed p;
  parse(p,
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(p.sink.heads.size(), 1u);
  EXPECT_EQ(p.sink.heads[0].code, 201);
  EXPECT_FALSE(p.sink.heads[0].headers.has("Link"));
  EXPECT_EQ(p.sink.body, "ok");
}

TEST(ResponseParser, SwitchingProtocolsIsAnError) {
  const auto what = parseError("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_NE(what.find("101"), std::string::npos) << what;
}

TEST(ResponseParser, TransferEncodingWinsOverContentLengthAndForbidsReuse) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.sink.body, "hello");
  EXPECT_FALSE(p.parser.keepAlive());
}

TEST(ResponseParser, ChunkedMustBeTheFinalCodingElseUntilClose) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello");
  EXPECT_EQ(p.parser.state(), State::bodyUntilClose);
  p.parser.connectionLost(p.sink);
  EXPECT_EQ(p.sink.body, "5\r\nhello");
  EXPECT_FALSE(p.parser.keepAlive());

  Parsed q;  // codings across fields and in any case; the last one counts
  parse(q, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: , CHUNKED\r\n\r\n2\r\nab\r\n0\r\n\r\n");
  EXPECT_EQ(q.parser.state(), State::complete);
  EXPECT_EQ(q.sink.body, "ab");
}

TEST(ResponseParser, TransferEncodingInHttp10IsAnError) {
  parseError("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST(ResponseParser, IdenticalContentLengthsAreAccepted) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 003\r\nContent-Length: 3, 3\r\n\r\nabc");
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.sink.body, "abc");
}

TEST(ResponseParser, ConflictingOrMalformedContentLengthsAreErrors) {
  for (const char* value : {"3\r\nContent-Length: 4", "3, 4", "abc", "-1", "+3", "3 3", "", "0x10", "3;", ",", "3.0"}) {
    const auto what = parseError(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + value + "\r\n\r\nabcd");
    EXPECT_NE(what.find("Content-Length"), std::string::npos) << what;
  }
}

TEST(ResponseParser, MalformedContentLengthIsAnErrorEvenWithoutABody) {
  parseError("HTTP/1.1 200 OK\r\nContent-Length: 2\t8\r\n\r\n", "HEAD");
  parseError("HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseParser, ConnectionHeaderAndVersionDecideKeepAlive) {
  const std::pair<const char*, bool> cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false},
  };
  for (const auto& [input, keepAlive] : cases) {
    Parsed p;
    parse(p, input);
    EXPECT_EQ(p.parser.state(), State::complete) << input;
    EXPECT_EQ(p.parser.keepAlive(), keepAlive) << input;
  }
}

TEST(ResponseParser, BareLfLineEndingsAreAccepted) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\nContent-Length: 2\nTransfer-Encoding: chunked\n\n2\r\nab\r\n0\r\nT: 1\n\n");
  EXPECT_EQ(p.parser.state(), State::complete);
  EXPECT_EQ(p.sink.body, "ab");
  EXPECT_EQ(p.sink.completions.at(0).get("T"), "1");
}

TEST(ResponseParser, ChunkFramingNeedsCrLf) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_NE(parseError(head + "2\nab\r\n0\r\n\r\n").find("bare LF"), std::string::npos);
  EXPECT_NE(parseError(head + "2\r\nab\n0\r\n\r\n").find("CRLF"), std::string::npos);
  parseError(head + "2\r\nab\r\n0\n\r\n");
}

TEST(ResponseParser, BareCrIsAnError) {
  parseError("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\r\n0\r\n\r\n");
}

TEST(ResponseParser, ObsFoldIsJoinedWithASpace) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(p.sink.heads.at(0).headers.get("X-Long"), "one two three");
}

TEST(ResponseParser, WhitespaceRightAfterTheStatusLineIsAnError) {
  parseError("HTTP/1.1 200 OK\r\n X: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseParser, HeaderLineErrors) {
  EXPECT_NE(parseError("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n").find("RFC 9112"), std::string::npos);
  parseError("HTTP/1.1 200 OK\r\nContent-Length\t: 0\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nBad[Name]: x\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s);
  parseError("HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n");
  parseError("HTTP/1.1 200 OK\r\nX: a\r\n \x1b\r\n\r\n");
}

TEST(ResponseParser, HeaderValuesAreTrimmedAndMayHoldObsText) {
  Parsed p;
  parse(p, "HTTP/1.1 200 OK\r\nX-A:\t v a l \t\r\nX-B:\r\nX-C: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n");
  const auto& headers = p.sink.heads.at(0).headers;
  EXPECT_EQ(headers.get("X-A"), "v a l");
  EXPECT_EQ(headers.get("X-B"), "");
  EXPECT_EQ(headers.get("X-C"), "caf\xc3\xa9");
}

TEST(ResponseParser, StatusLineForms) {
  Parsed noReason;
  parse(noReason, "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(noReason.sink.heads.at(0).code, 404);
  EXPECT_EQ(noReason.sink.heads.at(0).phrase, "");
  Parsed longReason;
  parse(longReason, "HTTP/1.0 599 A reason, with\tspaces \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(longReason.sink.heads.at(0).phrase, "A reason, with\tspaces ");
  EXPECT_EQ(longReason.sink.heads.at(0).versionMinor, 0);
}

TEST(ResponseParser, StatusLineErrors) {
  for (const char* line : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 200OK", "HTTP/2.0 200 OK", "HTTP/0.9 200 OK",
                           "HTTP/1.1 600 X", "HTTP/1.1 099 X", "ICY 200 OK", "http/1.1 200 OK", "HTTP/1.1  200 OK",
                           "HTTP/11 200 OK", "HTTP/1.1 2x0 OK", "", " HTTP/1.1 200 OK", "HTTP/1.1 200 O\x01K"}) {
    parseError(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
  }
}

TEST(ResponseParser, ChunkErrors) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* body : {"zz\r\n", "\r\n", "-1\r\n", "1 2\r\nx\r\n", "0x1\r\nx\r\n", "1\r\nxy\r\n0\r\n\r\n",
                           "11111111111111111\r\n", "0\r\nBad Trailer\r\n\r\n", "0\r\n trailer fold\r\n\r\n"}) {
    parseError(head + body);
  }
}

TEST(ResponseParser, PipelinedResponsesInOneBuffer) {
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none";
  const std::string second = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n";
  const std::string third = "HTTP/1.1 304 Not Modified\r\n\r\n";
  const std::string all = first + second + third + "HTTP/1.1 200 OK\r\n\r\nfour";
  ResponseParser parser;
  RecordingSink sink;
  std::string_view rest = all;
  for (const auto& expected : {first, second, third}) {
    parser.startResponse("GET");
    const auto used = parser.feed(rest, sink);
    EXPECT_EQ(used, expected.size());
    EXPECT_EQ(parser.state(), State::complete);
    EXPECT_TRUE(parser.keepAlive());
    rest.remove_prefix(used);
  }
  parser.startResponse("GET");
  EXPECT_EQ(parser.feed(rest, sink), rest.size());
  parser.connectionLost(sink);
  EXPECT_EQ(sink.body, "onetwofour");
  EXPECT_EQ(sink.heads.size(), 4u);
  EXPECT_EQ(sink.completions.size(), 4u);
}

// Inputs whose every outcome (head, body, trailers, errors, consumed bytes) must not
// depend on how they are cut into reads.
const char* const kSplitCases[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\nEXTRA",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 1\r\n\r\nz",
    "HTTP/1.0 200 OK\nServer: x\n\nuntil close\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad : x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: y\r",
    "HTTP/1.1 200 OK\r\nX: y\rz\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\r\n",
    "HTT",
    "",
};

TEST(ResponseParser, ByteAtATimeEqualsWholeFeeding) {
  for (const char* input : kSplitCases) {
    const auto whole = describeParse(input, 0);
    for (std::size_t piece : {1, 2, 3, 7, 16}) {
      EXPECT_EQ(describeParse(input, piece), whole) << "piece " << piece << " of: " << input;
    }
  }
}

TEST(ResponseParser, ConnectionLostBeforeTheEndIsTruncation) {
  EXPECT_NE(parseError<ResponseTruncatedError>("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                .find("after 3 of 10 bytes"),
            std::string::npos);
  parseError<ResponseTruncatedError>("HTTP/1.1 200 OK\r\nContent-Le");
  parseError<ResponseTruncatedError>("HTTP/1.1 20");
  parseError<ResponseTruncatedError>("HTTP/1.1 100 Continue\r\n\r\n");
  parseError<ResponseTruncatedError>("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  parseError<ResponseTruncatedError>("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n");
}

TEST(ResponseParser, ConnectionLostBeforeAnyByteIsNeverReceived) {
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse("GET");
  EXPECT_THROW(parser.connectionLost(sink), ResponseNeverReceivedError);
  ResponseParser idle;
  EXPECT_NO_THROW(idle.connectionLost(sink));  // no request, nothing lost
}

TEST(ResponseParser, DataWhenNoResponseIsExpectedIsAnError) {
  ResponseParser parser;
  RecordingSink sink;
  EXPECT_EQ(parser.feed("", sink), 0u);
  EXPECT_THROW(parser.feed("HTTP/1.1 200 OK\r\n", sink), ResponseParseError);
  EXPECT_EQ(parser.state(), State::failed);
  EXPECT_THROW(parser.feed("more", sink), ResponseParseError);
  EXPECT_THROW(parser.startResponse("GET"), std::logic_error);

  ResponseParser complete;
  complete.startResponse("GET");
  EXPECT_EQ(complete.feed("HTTP/1.1 204 No Content\r\n\r\nX", sink), 27u);
  EXPECT_THROW(complete.feed("X", sink), ResponseParseError);  // nobody asked for it
}

TEST(ResponseParser, StartResponseInTheMiddleIsALogicError) {
  ResponseParser parser;
  RecordingSink sink;
  parser.startResponse("GET");
  parser.feed("HTTP/1.1 200 OK\r\n", sink);
  EXPECT_THROW(parser.startResponse("GET"), std::logic_error);
}

TEST(ResponseParser, AnExceptionFromTheSinkFailsTheParser) {
  struct Throwing : RecordingSink {
    void bodyReceived(torsion::Bytes) override { throw std::runtime_error("sink"); }
  } sink;
  ResponseParser parser;
  parser.startResponse("GET");
  EXPECT_THROW(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", sink), std::runtime_error);
  EXPECT_EQ(parser.state(), State::failed);
  EXPECT_THROW(parser.feed("x", sink), ResponseParseError);
}

TEST(ResponseParser, ErrorsSayWhere) {
  const auto what = parseError("HTTP/1.1 200 OK\r\nX: 1\r\nBad Name: 2\r\n\r\n");
  EXPECT_NE(what.find("at byte 23"), std::string::npos) << what;
  EXPECT_NE(what.find("Bad Name"), std::string::npos) << what;
}

}  // namespace
