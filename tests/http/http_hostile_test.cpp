// The HTTP client against a scripted misbehaving server, on every backend: each case
// fails with a clear typed error, quickly, and nothing crashes, hangs or grows. This
// executable replaces operator new to record the largest single allocation, which
// proves that a 1 GiB Content-Length reserves nothing.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "hostile_http_server.hpp"
#include "http_client_test_support.hpp"
#include "reactor_test_support.hpp"

namespace {
std::atomic<bool> watching{false};
std::atomic<std::size_t> largestAllocation{0};
}  // namespace

void* operator new(std::size_t size) {
  if (watching.load(std::memory_order_relaxed)) {
    std::size_t seen = largestAllocation.load(std::memory_order_relaxed);
    while (size > seen && !largestAllocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace torsion_test {
namespace {

using torsion::http::PageOptions;
using torsion::http::Response;

// Records the largest allocation made while it lives.
class LargestAllocation {
 public:
  LargestAllocation() {
    largestAllocation = 0;
    watching = true;
  }
  ~LargestAllocation() { watching = false; }
  LargestAllocation(const LargestAllocation&) = delete;
  LargestAllocation& operator=(const LargestAllocation&) = delete;
  std::size_t bytes() const { return largestAllocation.load(); }
};

class HttpHostileTest : public BackendTest {
 protected:
  void SetUp() override {
    owner_ = std::make_unique<torsion_test::TestReactor>(backend());
    reactor_ = &**owner_;
  }

  // getPage against `server`, with a request timeout far above what any case needs, so
  // that a case that should fail at once and instead waits is seen as slow.
  torsion::Result<Response> get(HostileHttpServer& server, PageOptions options = {}) {
    if (options.agent.requestTimeout == 0) options.agent.requestTimeout = 20;
    const auto start = std::chrono::steady_clock::now();
    auto result = waitFor(*reactor_, torsion::http::getPage(*reactor_, server.url("/page"), std::move(options)), 30);
    elapsed_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

  std::unique_ptr<torsion_test::TestReactor> owner_;
  torsion::Reactor* reactor_ = nullptr;
  double elapsed_ = 0;
};

TEST_P(HttpHostileTest, TruncatedBodyIsResponseTruncatedError) {
  HostileHttpServer server(
      HostileHttpServer::respondAndClose("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"));
  EXPECT_TRUE(failedWith<torsion::http::ResponseTruncatedError>(get(server)));
  EXPECT_LT(elapsed_, 5);
}

TEST_P(HttpHostileTest, BadChunkSizeIsResponseParseError) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n"));
  EXPECT_TRUE(failedWith<torsion::http::ResponseParseError>(get(server)));
  EXPECT_LT(elapsed_, 5);
}

TEST_P(HttpHostileTest, MegabyteOfHeadersIsResponseTooLargeError) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(HostileHttpServer::hugeHeaders(1)));
  auto result = get(server);
  ASSERT_TRUE(failedWith<torsion::http::ResponseTooLargeError>(result));
  EXPECT_NE(result.failure().getErrorMessage().find("65536"), std::string::npos)
      << "the message names the cap: " << result.failure().getErrorMessage();
  EXPECT_LT(elapsed_, 5);
}

TEST_P(HttpHostileTest, ConflictingContentLengthsAreResponseParseError) {
  HostileHttpServer server(
      HostileHttpServer::respondAndHold("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"));
  EXPECT_TRUE(failedWith<torsion::http::ResponseParseError>(get(server)));
  EXPECT_LT(elapsed_, 5);
}

TEST_P(HttpHostileTest, NeverAnsweringServerMeetsTheRequestTimeout) {
  std::atomic<bool> clientClosed{false};
  HostileHttpServer server([&](HostileConnection& connection, int) {
    connection.readRequest();
    clientClosed = connection.waitForClose(10);
  });
  PageOptions options;
  options.agent.requestTimeout = 0.3;
  auto result = get(server, options);
  EXPECT_TRUE(failedWith<torsion::TimeoutError>(result));
  EXPECT_GE(elapsed_, 0.25);
  EXPECT_LT(elapsed_, 5);
  // The connection is closed, not kept for reuse.
  EXPECT_TRUE(runUntil(
      *reactor_, [&] { return clientClosed.load(); }, 5, "the client to close the connection"));
}

// The server answers the first request on a kept-alive connection, then reads the next
// request and closes without answering: what a client meets when the server closed an
// idle connection just as the request went out.
HostileHttpServer::Script closeAfterFirstResponse() {
  return [](HostileConnection& connection, int index) {
    if (connection.readRequest().empty()) return;
    connection.send(HostileHttpServer::okResponse("connection " + std::to_string(index)));
    if (index == 0) {
      connection.readRequest();
      connection.close();
      return;
    }
    connection.waitForClose(10);
  };
}

TEST_P(HttpHostileTest, ClosedKeepAliveConnectionIsRetriedOnceForGet) {
  HostileHttpServer server(closeAfterFirstResponse());
  torsion::http::Agent agent(*reactor_);
  auto first = waitFor(*reactor_, agent.request("GET", server.url()).addCallback(torsion::http::readBody));
  ASSERT_TRUE(first.ok()) << describeResult(first);
  EXPECT_EQ(first.value().body, "connection 0");
  auto second = waitFor(*reactor_, agent.request("GET", server.url()).addCallback(torsion::http::readBody));
  ASSERT_TRUE(second.ok()) << describeResult(second);
  EXPECT_EQ(second.value().body, "connection 1") << "retried on a fresh connection";
  EXPECT_EQ(server.connections(), 2);
}

TEST_P(HttpHostileTest, ClosedKeepAliveConnectionIsNotRetriedForPost) {
  HostileHttpServer server(closeAfterFirstResponse());
  torsion::http::Agent agent(*reactor_);
  auto first = waitFor(*reactor_, agent.request("GET", server.url()).addCallback(torsion::http::readBody));
  ASSERT_TRUE(first.ok()) << describeResult(first);
  auto post =
      waitFor(*reactor_,
              agent.request("POST", server.url(), {}, std::make_shared<torsion::http::StringBodyProducer>("once only"))
                  .addCallback(torsion::http::readBody));
  EXPECT_TRUE(failedWith<torsion::http::ResponseNeverReceivedError>(post));
  EXPECT_EQ(server.connections(), 1) << "a POST is never sent twice";
}

TEST_P(HttpHostileTest, GigabyteContentLengthFailsAtOnceWithoutAllocatingIt) {
  HostileHttpServer server(
      HostileHttpServer::respondAndHold("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nthe first bytes"));
  PageOptions options;
  options.maxBodyBytes = 64 * 1024;
  LargestAllocation largest;
  auto result = get(server, options);
  ASSERT_TRUE(failedWith<torsion::http::ResponseTooLargeError>(result));
  EXPECT_EQ(result.failure().value<torsion::http::ResponseTooLargeError>()->limit(), 64u * 1024);
  EXPECT_LT(elapsed_, 5) << "fails at the head, not after a timeout";
  EXPECT_LT(largest.bytes(), 1024u * 1024) << "an allocation of " << largest.bytes() << " bytes";
}

// A redirect the Agent refuses, whose (small) body came in the same read as its head:
// the response is dropped while the parser is still delivering it.
TEST_P(HttpHostileTest, RefusedRedirectWithItsBodyInOneReadIsAnError) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(
      "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/file\r\nContent-Length: 5\r\n\r\nmoved"));
  EXPECT_TRUE(failedWith<torsion::http::UnsupportedSchemeError>(get(server)));
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HttpHostileTest);

}  // namespace
}  // namespace torsion_test
