// The examples of docs/http.md, compiled and run; the guide's copies must match them
// (docs.http_guide_snippets). Servers are a scripted one on 127.0.0.1, or none at all
// on a MemoryReactorClock.
#include <torsion/http/client.hpp>
#include <torsion/testing.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "hostile_http_server.hpp"
#include "http_client_test_support.hpp"
#include "reactor_test_support.hpp"

namespace torsion_test {
namespace {

// [guide:get-page]
// Fetches one page and stops the reactor, whatever happens.
void fetchOne(torsion::Reactor& reactor, const std::string& url, std::string& report) {
  torsion::http::getPage(reactor, url)
      .addCallback([&report](const torsion::http::Response& page) {
        report = std::to_string(page.code) + " " + std::to_string(page.body.size()) + " bytes";
      })
      .addErrback([&report](const torsion::Failure& failure) { report = "failed: " + failure.getErrorMessage(); })
      .addBoth([&reactor](const torsion::Result<void>&) { reactor.stop(); });
}
// [guide:end]

TEST(HttpGuide, GetPage) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(HostileHttpServer::okResponse("hello")));
  torsion::Reactor reactor;
  std::string report;
  fetchOne(reactor, server.url("/index.html"), report);
  ASSERT_TRUE(runWithDeadline(reactor, 10));
  EXPECT_EQ(report, "200 5 bytes");
}

// [guide:agent-post]
// POSTs a JSON document with an Agent (its pool keeps the connection for the next
// request) and returns the length of the answer.
torsion::Deferred<std::size_t> postJson(torsion::http::Agent& agent, std::string url) {
  torsion::http::Headers headers;
  headers.add("Content-Type", "application/json");
  auto body = std::make_shared<torsion::http::StringBodyProducer>(R"({"name": "torsion"})");
  torsion::http::Response answer =
      co_await agent.request("POST", url, headers, body).addCallback(torsion::http::readBody.withLimit(1 << 20));
  co_return answer.body.size();
}
// [guide:end]

TEST(HttpGuide, AgentPost) {
  std::string request;
  HostileHttpServer server([&request](HostileConnection& connection, int) {
    request = connection.readRequest();
    connection.send(HostileHttpServer::okResponse("{\"id\": 7}"));
    connection.waitForClose(10);
  });
  torsion::Reactor reactor;
  torsion::http::Agent agent(reactor);
  auto size = waitFor(reactor, postJson(agent, server.url("/api")));
  ASSERT_TRUE(size.ok()) << describeResult(size);
  EXPECT_EQ(size.value(), 9u);
  EXPECT_TRUE(request.starts_with("POST /api HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("Content-Length: 19\r\n"), std::string::npos) << request;
}

// [guide:streaming]
// Counts a body's bytes as they arrive, keeping none of them.
class ByteCounter : public torsion::http::BodyReceiver {
 public:
  void bodyReceived(torsion::Bytes data) override { bytes += data.size(); }
  void bodyFinished(const torsion::Failure& reason) override {
    complete = reason.check<torsion::http::ResponseDone>();  // else truncated, too large, ...
  }
  std::uint64_t bytes = 0;
  bool complete = false;
};

void countBody(torsion::http::Agent& agent, const std::string& url, std::shared_ptr<ByteCounter> counter) {
  agent.request("GET", url).addCallback([counter](const torsion::http::Response& response) {
    response.deliverBody(counter);  // the head is here; the body follows
  });
}
// [guide:end]

TEST(HttpGuide, StreamingBody) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(HostileHttpServer::okResponse(std::string(100000, 'x'))));
  torsion::Reactor reactor;
  torsion::http::Agent agent(reactor);
  auto counter = std::make_shared<ByteCounter>();
  countBody(agent, server.url("/big"), counter);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return counter->complete; }, 10, "the body"));
  EXPECT_EQ(counter->bytes, 100000u);
}

// [guide:download]
// Streams a page to a file, reporting progress; the body is never held in memory.
torsion::Deferred<torsion::http::Response> download(torsion::Reactor& reactor, const std::string& url,
                                                    const std::string& path, std::uint64_t& written) {
  return torsion::http::downloadPage(reactor, url, path,
                                     [&written](std::uint64_t soFar, std::optional<std::uint64_t> total) {
                                       written = soFar;  // total: the Content-Length, if sent
                                       (void)total;
                                     });
}
// [guide:end]

TEST(HttpGuide, DownloadPage) {
  HostileHttpServer server(HostileHttpServer::respondAndHold(HostileHttpServer::okResponse(std::string(300000, 'y'))));
  torsion::Reactor reactor;
  const auto path = std::filesystem::temp_directory_path() / ("torsion-guide-" + std::to_string(::getpid()) + ".bin");
  std::uint64_t written = 0;
  auto result = waitFor(reactor, download(reactor, server.url("/file.bin"), path.string(), written));
  ASSERT_TRUE(result.ok()) << describeResult(result);
  EXPECT_EQ(written, 300000u);
  EXPECT_EQ(std::filesystem::file_size(path), 300000u);
  std::filesystem::remove(path);
}

// [guide:options]
torsion::http::AgentOptions carefulOptions() {
  torsion::http::AgentOptions options;
  options.connectTimeout = 5;   // seconds to get a connection
  options.requestTimeout = 30;  // seconds for everything, redirects and body included
  options.redirectLimit = 5;    // followRedirects is on by default
  options.decompress = true;    // Accept-Encoding: gzip, deflate, decoded as it arrives
  options.maxDecodedBytes = 64ull << 20;
  options.proxy = torsion::http::ProxyConfig::fromEnvironment();  // http_proxy, no_proxy
  return options;
}
// [guide:end]

TEST(HttpGuide, Options) {
  const auto options = carefulOptions();
  EXPECT_TRUE(options.followRedirects);
  EXPECT_EQ(options.redirectLimit, 5);
}

// [guide:errors]
// What went wrong, in words a user can act on.
std::string explain(const torsion::Failure& failure) {
  if (failure.check<torsion::TimeoutError>()) return "too slow";
  if (failure.check<torsion::ConnectError>()) return "cannot connect";
  if (failure.check<torsion::http::ResponseTooLargeError>()) return "too large";
  if (failure.check<torsion::tls::TLSError>()) return "TLS: " + failure.getErrorMessage();
  if (failure.check<torsion::http::HttpError>()) return "bad HTTP: " + failure.getErrorMessage();
  return failure.toString();
}
// [guide:end]

TEST(HttpGuide, Errors) {
  torsion::Reactor reactor;
  auto refused = waitFor(reactor, torsion::http::getPage(reactor, "http://127.0.0.1:" + std::to_string(unusedPort())));
  ASSERT_TRUE(refused.failed());
  EXPECT_EQ(explain(refused.failure()), "cannot connect");
}

// [guide:memory-reactor]
TEST(HttpGuide, AgentOnAMemoryReactorClock) {
  torsion::testing::MemoryReactorClock reactor;  // no socket, no real time
  torsion::http::AgentOptions options;
  options.requestTimeout = 10;
  torsion::http::Agent agent(reactor, nullptr, options);

  std::optional<torsion::Result<torsion::http::Response>> page;
  agent.request("GET", "http://example.org/hello")
      .addCallback(torsion::http::readBody)
      .addBoth([&page](torsion::Result<torsion::http::Response> r) { page = std::move(r); });
  auto server = reactor.connectors.at(0)->completeConnection();  // the test plays the server
  EXPECT_TRUE(server->value().starts_with("GET /hello HTTP/1.1\r\nHost: example.org\r\n"));
  server->receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(page && page->ok());
  EXPECT_EQ(page->value().body, "hello");

  // The next request reuses the connection; the server never answers it.
  std::optional<torsion::Result<torsion::http::Response>> late;
  agent.request("GET", "http://example.org/slow").addBoth([&late](torsion::Result<torsion::http::Response> r) {
    late = std::move(r);
  });
  EXPECT_EQ(reactor.connectors.size(), 1u);
  reactor.advance(10);  // the request timeout passes, in no time
  ASSERT_TRUE(late && late->failed());
  EXPECT_TRUE(late->failure().check<torsion::TimeoutError>());
}
// [guide:end]

}  // namespace
}  // namespace torsion_test
