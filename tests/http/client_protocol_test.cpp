// HTTP11ClientProtocol and the request head: what is written, how responses come back,
// request bodies (length, chunked, back-pressure), early answers, lost connections.
#include <torsion/http/client_protocol.hpp>

#include "client_test_support.hpp"

#include <cstdio>
#include <fstream>

namespace {

using namespace torsion::http;
using torsion_test::watch;

std::string takeValue(const std::shared_ptr<torsion::testing::StringTransport>& t) {
  std::string v = t->value();
  t->clear();
  return v;
}

Request get(const std::string& url, Headers headers = {}) {
  return Request{"GET", Url::parse(url), std::move(headers), nullptr, false};
}

struct Connected {
  std::shared_ptr<HTTP11ClientProtocol> protocol = std::make_shared<HTTP11ClientProtocol>();
  std::shared_ptr<torsion::testing::StringTransport> transport = std::make_shared<torsion::testing::StringTransport>();
  Connected() { transport->makeConnection(*protocol); }
};

TEST(RequestHead, RequestLineHostUserHeadersAndFraming) {
  Headers headers;
  headers.add("Accept", "text/html");
  headers.add("X-Twice", "1");
  headers.add("X-Twice", "2");
  EXPECT_EQ(formatRequestHead(get("http://[::1]:8080/a%20b?x=1", headers)),
            "GET /a%20b?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nAccept: text/html\r\nX-Twice: 1\r\nX-Twice: 2\r\n\r\n");
  Request post{"POST", Url::parse("http://h/p"), {}, nullptr, false};
  EXPECT_EQ(formatRequestHead(post), "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  post.body = std::make_shared<StringBodyProducer>("abc");
  EXPECT_EQ(formatRequestHead(post), "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
  Request proxied = get("http://example.com:81/x");
  proxied.absoluteForm = true;
  EXPECT_EQ(formatRequestHead(proxied), "GET http://example.com:81/x HTTP/1.1\r\nHost: example.com:81\r\n\r\n");
}

TEST(RequestHead, UserFramingHeadersAreNotSent) {
  Headers headers;
  headers.add("Content-Length", "5");
  headers.add("Transfer-Encoding", "chunked");
  EXPECT_EQ(formatRequestHead(get("http://h/", headers)), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(RequestHead, HeadersAndMethodsThatCouldSplitTheRequestAreRefused) {
  Headers headers;
  EXPECT_THROW(headers.add("X-Evil", "a\r\nInjected: yes"), InvalidHeaderError);
  EXPECT_THROW(headers.add("X-Evil", std::string("a\0b", 3)), InvalidHeaderError);
  EXPECT_THROW(headers.add("X-Evil", "a\nb"), InvalidHeaderError);
  EXPECT_THROW(headers.add("Bad Name", "v"), InvalidHeaderError);
  EXPECT_THROW(validateMethod("GET /x HTTP/1.1\r\n"), InvalidHeaderError);
  EXPECT_THROW(validateMethod(""), InvalidHeaderError);
  Request bad = get("http://h/");
  bad.method = "G T";
  EXPECT_THROW(formatRequestHead(bad), InvalidHeaderError);
  EXPECT_TRUE(isIdempotent("GET"));
  EXPECT_TRUE(isIdempotent("PUT"));
  EXPECT_FALSE(isIdempotent("POST"));
  EXPECT_FALSE(isIdempotent("PATCH"));
}

TEST(ClientProtocol, ResponseHeadFiresThenBodyStreamsAndConnectionIsQuiescent) {
  Connected c;
  int quiescent = 0;
  c.protocol->setQuiescentCallback([&](HTTP11ClientProtocol&) { ++quiescent; });
  auto response = watch(c.protocol->request(get("http://h/")));
  EXPECT_EQ(c.transport->value(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::waiting);
  c.transport->receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a\r\nset-cookie: b\r\n\r\nhe");
  ASSERT_TRUE(response->value);
  EXPECT_EQ(response->value->code, 200);
  EXPECT_EQ(response->value->phrase, "OK");
  EXPECT_EQ(response->value->length, 5u);
  EXPECT_EQ(response->value->headers.getAll("SET-COOKIE"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(quiescent, 0);
  auto page = watch(readBody(*response->value));
  EXPECT_FALSE(page->fired());
  c.transport->receive("llo");
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "hello");
  EXPECT_EQ(quiescent, 1);
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::idle);
}

TEST(ClientProtocol, BodyArrivingBeforeDeliverBodyIsBufferedAndTheTransportPaused) {
  Connected c;
  auto response = watch(c.protocol->request(get("http://h/")));
  c.transport->receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  ASSERT_TRUE(response->value);
  EXPECT_EQ(c.transport->producerState(), torsion::testing::StringTransport::ProducerState::paused);
  auto page = watch(readBody(*response->value));
  EXPECT_EQ(c.transport->producerState(), torsion::testing::StringTransport::ProducerState::producing);
  c.transport->receive("2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "abcde");
  EXPECT_EQ(page->value->trailers.get("x-trailer"), "t");
}

TEST(ClientProtocol, DroppingTheResponseUnreadAbandonsTheConnection) {
  Connected c;
  int quiescent = 0;
  c.protocol->setQuiescentCallback([&](HTTP11ClientProtocol&) { ++quiescent; });
  {
    auto response = watch(c.protocol->request(get("http://h/")));
    c.transport->receive("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab");
    ASSERT_TRUE(response->value);
  }  // the only Response goes here
  EXPECT_TRUE(c.transport->aborted());
  EXPECT_EQ(quiescent, 0);
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::closed);
}

TEST(ClientProtocol, ConnectionCloseOrUntilCloseBodyIsNotReused) {
  Connected c;
  int quiescent = 0;
  c.protocol->setQuiescentCallback([&](HTTP11ClientProtocol&) { ++quiescent; });
  auto page = watch(c.protocol->request(get("http://h/")).addCallback(readBody));
  c.transport->receive("HTTP/1.1 200 OK\r\n\r\nuntil close");
  EXPECT_FALSE(page->fired());
  c.transport->reportConnectionLost(torsion::Failure(torsion::ConnectionDone()));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "until close");
  EXPECT_EQ(quiescent, 0);
}

TEST(ClientProtocol, LostBeforeAnyByteIsResponseNeverReceived) {
  Connected c;
  auto response = watch(c.protocol->request(get("http://h/")));
  c.transport->reportConnectionLost(torsion::Failure(torsion::ConnectionDone()));
  ASSERT_TRUE(response->failure);
  EXPECT_TRUE(response->failure->check<ResponseNeverReceivedError>());
}

TEST(ClientProtocol, TruncatedBodyFailsTheBody) {
  Connected c;
  auto page = watch(c.protocol->request(get("http://h/")).addCallback(readBody));
  c.transport->receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  c.transport->reportConnectionLost(torsion::Failure(torsion::ConnectionDone()));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTruncatedError>());
  EXPECT_FALSE(page->failure->check<ResponseNeverReceivedError>());
}

TEST(ClientProtocol, MalformedResponseFailsAndAborts) {
  Connected c;
  auto response = watch(c.protocol->request(get("http://h/")));
  c.transport->receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  ASSERT_TRUE(response->failure);
  EXPECT_TRUE(response->failure->check<ResponseParseError>());
  EXPECT_TRUE(c.transport->aborted());
}

TEST(ClientProtocol, BytesAfterTheResponseMakeTheConnectionUnusable) {
  Connected c;
  int quiescent = 0;
  c.protocol->setQuiescentCallback([&](HTTP11ClientProtocol&) { ++quiescent; });
  auto page = watch(c.protocol->request(get("http://h/")).addCallback(readBody));
  c.transport->receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(page->value);
  EXPECT_EQ(quiescent, 0);
  EXPECT_TRUE(c.transport->aborted());
}

TEST(ClientProtocol, OneRequestAtATime) {
  Connected c;
  auto first = watch(c.protocol->request(get("http://h/")));
  EXPECT_THROW(c.protocol->request(get("http://h/")), std::logic_error);
}

TEST(ClientProtocol, CancellingTheResponseAbortsTheConnection) {
  Connected c;
  auto d = c.protocol->request(get("http://h/"));
  auto response = watch(d);
  d.cancel();
  ASSERT_TRUE(response->failure);
  EXPECT_TRUE(response->failure->check<torsion::CancelledError>());
  EXPECT_TRUE(c.transport->aborted());
}

// A producer of unknown length, driven by the test.
class ManualProducer : public BodyProducer {
 public:
  std::optional<std::uint64_t> length() const override { return std::nullopt; }
  torsion::Deferred<void> startProducing(std::shared_ptr<BodyConsumer> consumer) override {
    consumer_ = std::move(consumer);
    done_ = torsion::Deferred<void>();
    return done_;
  }
  void pauseProducing() override { paused = true; }
  void resumeProducing() override { paused = false; }
  void stopProducing() override { stopped = true; }
  std::shared_ptr<BodyConsumer> consumer_;
  torsion::Deferred<void> done_;
  bool paused = false;
  bool stopped = false;
};

TEST(ClientProtocol, BodyOfUnknownLengthIsChunkedAndFollowsBackPressure) {
  Connected c;
  auto producer = std::make_shared<ManualProducer>();
  c.transport->setWriteWatermarks(8, 2);
  auto response = watch(c.protocol->request(Request{"POST", Url::parse("http://h/up"), {}, producer, false}));
  EXPECT_EQ(takeValue(c.transport), "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(c.transport->producer().get(), producer.get());
  c.transport->setWritesBlocked(true);
  producer->consumer_->write("0123456789abcdef");
  EXPECT_TRUE(producer->paused);  // the queue passed the high water mark
  c.transport->setWritesBlocked(false);
  EXPECT_FALSE(producer->paused);
  producer->done_.callback();
  EXPECT_EQ(takeValue(c.transport), "10\r\n0123456789abcdef\r\n0\r\n\r\n");
  EXPECT_EQ(c.transport->producer(), nullptr);
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::waiting);
}

TEST(ClientProtocol, AnEarlyResponseStopsTheBodyAndTheConnectionIsNotReused) {
  Connected c;
  int quiescent = 0;
  c.protocol->setQuiescentCallback([&](HTTP11ClientProtocol&) { ++quiescent; });
  auto producer = std::make_shared<ManualProducer>();
  auto page =
      watch(c.protocol->request(Request{"POST", Url::parse("http://h/up"), {}, producer, false}).addCallback(readBody));
  c.transport->receive("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->code, 413);
  EXPECT_TRUE(producer->stopped);
  EXPECT_EQ(quiescent, 0);
}

TEST(ClientProtocol, AFailingBodyProducerFailsTheRequest) {
  Connected c;
  auto producer = std::make_shared<ManualProducer>();
  auto response = watch(c.protocol->request(Request{"PUT", Url::parse("http://h/up"), {}, producer, false}));
  producer->done_.errback(std::runtime_error("disk on fire"));
  ASSERT_TRUE(response->failure);
  EXPECT_TRUE(response->failure->check<RequestNotSentError>());
  EXPECT_TRUE(c.transport->aborted());
}

// Head and a small body in one write: written apart, the body's segment waits for the
// ACK of the head's, which a server delays by up to 40 ms (Nagle meets delayed ACK).
TEST(ClientProtocol, ASmallBodyLeavesWithItsHeadInOneWrite) {
  Connected c;
  auto response = watch(c.protocol->request(
      Request{"POST", Url::parse("http://h/form"), {}, std::make_shared<StringBodyProducer>("name=value"), false}));
  EXPECT_EQ(c.transport->writeCalls(), 1u);
  EXPECT_EQ(takeValue(c.transport), "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nname=value");
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::waiting);
}

// A producer of unknown length that writes and finishes at once: the head, the chunk and
// the last chunk still leave together.
TEST(ClientProtocol, AChunkedBodyWrittenAtOnceLeavesWithItsHeadInOneWrite) {
  class AtOnce : public BodyProducer {
   public:
    std::optional<std::uint64_t> length() const override { return std::nullopt; }
    torsion::Deferred<void> startProducing(std::shared_ptr<BodyConsumer> consumer) override {
      consumer->write("abc");
      torsion::Deferred<void> done;
      done.callback();
      return done;
    }
    void pauseProducing() override {}
    void resumeProducing() override {}
    void stopProducing() override {}
  };
  Connected c;
  auto response =
      watch(c.protocol->request(Request{"POST", Url::parse("http://h/up"), {}, std::make_shared<AtOnce>(), false}));
  EXPECT_EQ(c.transport->writeCalls(), 1u);
  EXPECT_EQ(takeValue(c.transport),
            "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
}

// A body too large to be worth copying goes out as written, after the head, intact.
TEST(ClientProtocol, ALargeBodyIsWrittenAfterItsHeadWithoutGathering) {
  Connected c;
  const std::string body(200 * 1024, 'x');
  auto response = watch(c.protocol->request(
      Request{"PUT", Url::parse("http://h/big"), {}, std::make_shared<StringBodyProducer>(body), false}));
  EXPECT_EQ(c.transport->writeCalls(), 2u);
  EXPECT_EQ(takeValue(c.transport), "PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 204800\r\n\r\n" + body);
}

TEST(ClientProtocol, ConnectionMadeTurnsNagleOff) {
  Connected c;
  EXPECT_TRUE(c.transport->getTcpNoDelay());
}

TEST(ClientProtocol, FileBodyProducerStreamsTheFileWithContentLength) {
  const std::string path = ::testing::TempDir() + "torsion_http_upload.bin";
  std::string content;
  for (int i = 0; i < 1000; ++i) content += "line " + std::to_string(i) + "\n";
  std::ofstream(path, std::ios::binary) << content;
  torsion::testing::Clock clock;
  auto producer = std::make_shared<FileBodyProducer>(clock, path, 1000);
  EXPECT_EQ(producer->length(), content.size());
  Connected c;
  auto response = watch(c.protocol->request(Request{"PUT", Url::parse("http://h/f"), {}, producer, false}));
  takeValue(c.transport);
  // The peer does not read: the queue passes the high water mark and the file waits.
  c.transport->setWriteWatermarks(1500, 100);
  c.transport->setWritesBlocked(true);
  clock.advance(0);
  EXPECT_EQ(c.transport->writeBufferSize(), 2000u);
  clock.advance(0);
  EXPECT_EQ(c.transport->writeBufferSize(), 2000u);
  c.transport->setWritesBlocked(false);  // drains: the producer resumes
  for (int i = 0; i < 20; ++i) clock.advance(0);
  EXPECT_EQ(c.transport->value(), content);
  EXPECT_EQ(c.protocol->state(), HTTP11ClientProtocol::State::waiting);
  std::remove(path.c_str());
}

}  // namespace
