// Agent on MemoryReactorClock: redirects (each status, limit, loop, cross-origin
// headers, non-http targets, history), gzip decoding and its cap, the proxy, readBody's
// cap, and co_await.
#include <torsion/http/agent.hpp>

#include "client_test_support.hpp"

#include <zlib.h>

namespace {

using namespace torsion::http;
using torsion_test::ClientTest;
using torsion_test::watch;

std::string gzip(std::string_view data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string redirectTo(int code, const std::string& location) {
  return "HTTP/1.1 " + std::to_string(code) + " Moved\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n";
}

class Redirects : public ClientTest {};

TEST_F(Redirects, EachStatusAppliesTwistedsMethodRules) {
  struct Case {
    int code;
    std::string method;
    std::string expectedMethod;
    bool bodyKept;
  };
  const Case cases[] = {{301, "GET", "GET", true},    {302, "GET", "GET", true},   {303, "POST", "GET", false},
                        {303, "HEAD", "HEAD", false}, {301, "POST", "GET", false}, {302, "POST", "GET", false},
                        {307, "POST", "POST", true},  {308, "PUT", "PUT", true},   {301, "PUT", "PUT", true},
                        {303, "DELETE", "GET", false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.code) + " " + c.method);
    torsion::testing::MemoryReactorClock r;
    Agent agent(r);
    Headers headers;
    headers.add("Content-Type", "text/plain");
    auto page =
        watch(agent.request(c.method, "http://a.test/from", headers, std::make_shared<StringBodyProducer>("data")));
    auto server = r.connectors[0]->completeConnection();
    server->clear();
    server->receive(redirectTo(c.code, "/to"));
    const std::string second = server->value();
    EXPECT_EQ(second.substr(0, c.expectedMethod.size() + 4), c.expectedMethod + " /to");
    EXPECT_EQ(second.find("data") != std::string::npos, c.bodyKept) << second;
    EXPECT_EQ(second.find("Content-Type") != std::string::npos, c.bodyKept) << second;
    server->clear();
    server->receive(c.expectedMethod == "HEAD" ? "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" : ok("done"));
    ASSERT_TRUE(page->value);
    EXPECT_EQ(page->value->code, 200);
    ASSERT_EQ(page->value->history.size(), 1u);
    EXPECT_EQ(page->value->history[0].code, c.code);
    EXPECT_EQ(page->value->history[0].request.method, c.method);
    EXPECT_EQ(page->value->request->method, c.expectedMethod);
    EXPECT_EQ(page->value->request->url.toString(), "http://a.test/to");
    EXPECT_EQ(r.tcpClients.size(), 1u);  // the redirect's connection was reused
  }
}

TEST_F(Redirects, TheLimitIsEnforced) {
  AgentOptions options;
  options.redirectLimit = 3;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://a.test/0"));
  auto server = accept(0);
  for (int i = 1; i <= 4 && !page->fired(); ++i) server->receive(redirectTo(302, "/" + std::to_string(i)));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<RedirectLimitError>()) << page->failure->toString();
}

TEST_F(Redirects, TheDefaultLimitIsTwenty) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://a.test/0"));
  auto server = accept(0);
  int followed = 0;
  while (!page->fired() && followed < 30) server->receive(redirectTo(302, "/" + std::to_string(++followed)));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<RedirectLimitError>());
  EXPECT_EQ(followed, 21);
}

TEST_F(Redirects, ALoopIsAnError) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://a.test/a"));
  auto server = accept(0);
  server->receive(redirectTo(302, "/b"));
  server->receive(redirectTo(302, "http://a.test/a"));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<RedirectLoopError>()) << page->failure->toString();
}

TEST_F(Redirects, NonHttpTargetsAndMissingLocationsAreErrors) {
  Agent agent(reactor);
  auto ftp = watch(agent.request("GET", "http://a.test/a"));
  auto server = accept(0);
  server->receive(redirectTo(301, "ftp://a.test/file"));
  ASSERT_TRUE(ftp->failure);
  EXPECT_TRUE(ftp->failure->check<UnsupportedSchemeError>()) << ftp->failure->toString();

  auto none = watch(agent.request("GET", "http://b.test/a"));
  accept(1)->receive("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(none->failure);
  EXPECT_TRUE(none->failure->check<RedirectLocationError>());
}

TEST_F(Redirects, SensitiveHeadersAreDroppedAcrossOrigins) {
  Agent agent(reactor);
  Headers headers;
  headers.add("Authorization", "Bearer secret");
  headers.add("Cookie", "session=1");
  headers.add("Proxy-Authorization", "Basic x");
  headers.add("X-Other", "kept");
  auto page = watch(agent.request("GET", "http://a.test/", headers));
  auto first = accept(0);
  first->clear();
  first->receive(redirectTo(302, "/same-origin"));
  const std::string same = take(first);
  EXPECT_NE(same.find("Authorization: Bearer secret"), std::string::npos);
  EXPECT_NE(same.find("Cookie: session=1"), std::string::npos);
  first->receive(redirectTo(302, "http://a.test:8080/other-port"));
  auto second = accept(1);
  const std::string other = take(second);
  EXPECT_EQ(other.find("Authorization"), std::string::npos) << other;
  EXPECT_EQ(other.find("Cookie"), std::string::npos) << other;
  EXPECT_NE(other.find("X-Other: kept"), std::string::npos);
  EXPECT_NE(other.find("Host: a.test:8080"), std::string::npos);
  second->receive(ok("there"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->history.size(), 2u);
}

TEST_F(Redirects, ASchemeChangeAloneIsAnotherOrigin) {
  // http://a.test:8443 → https://a.test:8443: same host and port, another scheme. The
  // connection is plain here (the test reads the bytes); https_nginx_test does it in TLS.
  AgentOptions options;
  std::vector<std::string> schemes;
  options.connect = [&](torsion::IReactorTCP& r, const ConnectionKey& key,
                        std::shared_ptr<torsion::ClientFactory> factory, double timeout) {
    schemes.push_back(key.scheme);
    return r.connectTCP(key.host, key.port, std::move(factory), timeout);
  };
  Agent agent(reactor, nullptr, options);
  Headers headers;
  headers.add("Authorization", "Bearer secret");
  headers.add("Cookie", "session=1");
  auto page = watch(agent.request("GET", "http://a.test:8443/", headers));
  auto first = accept(0);
  EXPECT_NE(take(first).find("Authorization: Bearer secret"), std::string::npos);
  first->receive(redirectTo(301, "https://a.test:8443/secure"));
  auto second = accept(1);
  const std::string sent = take(second);
  EXPECT_EQ(sent.find("Authorization"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("Cookie"), std::string::npos) << sent;
  EXPECT_EQ(schemes, (std::vector<std::string>{"http", "https"}));
  second->receive(ok("secure"));
  ASSERT_TRUE(page->value);
}

TEST_F(Redirects, NotFollowedWhenDisabled) {
  AgentOptions options;
  options.followRedirects = false;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://a.test/"));
  accept(0)->receive(redirectTo(302, "/x"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->code, 302);
}

class Decoding : public ClientTest {};

TEST_F(Decoding, GzipIsAskedForAndDecoded) {
  AgentOptions options;
  options.decompress = true;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody));
  auto server = accept(0);
  EXPECT_NE(take(server).find("Accept-Encoding: gzip, deflate\r\n"), std::string::npos);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "compressible line " + std::to_string(i % 10) + "\n";
  const std::string body = gzip(text);
  std::string chunked;
  for (std::size_t at = 0; at < body.size(); at += 100) {
    const std::string part = body.substr(at, 100);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  server->receive("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
                  "0\r\n\r\n");
  ASSERT_TRUE(page->value) << page->failure->toString();
  EXPECT_EQ(page->value->body, text);
  EXPECT_FALSE(page->value->headers.has("Content-Encoding"));
  EXPECT_EQ(agent.pool()->idleConnections({"http", "a.test", 80}), 1u);
}

TEST_F(Decoding, TheDecodedSizeIsCapped) {
  AgentOptions options;
  options.decompress = true;
  options.maxDecodedBytes = 10000;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody));
  auto server = accept(0);
  const std::string bomb = gzip(std::string(1 << 20, 'a'));  // 1 MiB from about 1 KiB
  server->receive("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) +
                  "\r\n\r\n" + bomb);
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTooLargeError>()) << page->failure->toString();
  EXPECT_TRUE(server->aborted());
}

TEST_F(Decoding, ACorruptBodyIsADecompressionError) {
  AgentOptions options;
  options.decompress = true;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody));
  accept(0)->receive(ok("not gzip at all", "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<DecompressionError>()) << page->failure->toString();
}

TEST_F(Decoding, OffByDefault) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody));
  auto server = accept(0);
  EXPECT_EQ(take(server).find("Accept-Encoding"), std::string::npos);
  const std::string body = gzip("x");
  server->receive(ok(body, "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, body);
}

class Proxy : public ClientTest {};

TEST_F(Proxy, RequestsGoToTheProxyInAbsoluteForm) {
  AgentOptions options;
  options.proxy = ProxyConfig::fromValues("http://proxy.test:3128", "localhost, .internal.test,10.1.2.3");
  ASSERT_TRUE(options.proxy);
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://example.com:81/p?q=1").addCallback(readBody));
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "proxy.test");
  EXPECT_EQ(reactor.tcpClients[0].port, 3128);
  auto proxy = accept(0);
  EXPECT_EQ(take(proxy), "GET http://example.com:81/p?q=1 HTTP/1.1\r\nHost: example.com:81\r\n\r\n");
  proxy->receive(ok("via proxy"));
  ASSERT_TRUE(page->value);

  watch(agent.request("GET", "http://db.internal.test/"));
  watch(agent.request("GET", "http://10.1.2.3/"));
  watch(agent.request("GET", "http://localhost:8080/"));
  ASSERT_EQ(reactor.tcpClients.size(), 4u);
  EXPECT_EQ(reactor.tcpClients[1].host, "db.internal.test");
  EXPECT_EQ(reactor.tcpClients[2].host, "10.1.2.3");
  EXPECT_EQ(reactor.tcpClients[3].host, "localhost");
  auto direct = accept(1);
  EXPECT_EQ(take(direct), "GET / HTTP/1.1\r\nHost: db.internal.test\r\n\r\n");
}

TEST_F(Proxy, NoProxyRules) {
  const auto config = ProxyConfig::fromValues("proxy:8080", "example.com:8080,[::1],*.ignored");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "proxy");
  EXPECT_EQ(config->port, 8080);
  EXPECT_FALSE(config->appliesTo(Url::parse("http://example.com:8080/")));
  EXPECT_TRUE(config->appliesTo(Url::parse("http://example.com/")));
  EXPECT_FALSE(config->appliesTo(Url::parse("http://sub.example.com:8080/")));
  EXPECT_TRUE(config->appliesTo(Url::parse("http://notexample.com:8080/")));
  EXPECT_FALSE(config->appliesTo(Url::parse("http://[::1]/")));
  EXPECT_FALSE(config->appliesTo(Url::parse("https://elsewhere/")));  // http_proxy: http:// only
  EXPECT_FALSE(ProxyConfig::fromValues("", "x"));
  EXPECT_FALSE(ProxyConfig::fromValues("p:1", "*")->appliesTo(Url::parse("http://any/")));
  EXPECT_THROW(ProxyConfig::fromValues("https://p:1", ""), InvalidUrlError);
  EXPECT_THROW(ProxyConfig::fromValues("http://p:99999", ""), InvalidUrlError);
}

TEST_F(Proxy, FromTheEnvironment) {
  ::setenv("http_proxy", "http://envproxy:3129/", 1);
  ::setenv("no_proxy", "skip.test", 1);
  const auto config = ProxyConfig::fromEnvironment();
  ::unsetenv("http_proxy");
  ::unsetenv("no_proxy");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "envproxy");
  EXPECT_EQ(config->port, 3129);
  EXPECT_EQ(config->noProxy, std::vector<std::string>{"skip.test"});
  EXPECT_FALSE(ProxyConfig::fromEnvironment());
}

class ReadBodyCap : public ClientTest {};

TEST_F(ReadBodyCap, AContentLengthAboveTheCapFailsAtOnce) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody.withLimit(1000)));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nabc");
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTooLargeError>());
  EXPECT_EQ(page->failure->value<ResponseTooLargeError>()->limit(), 1000u);
  EXPECT_TRUE(server->aborted());
}

TEST_F(ReadBodyCap, AChunkedBodyPassingTheCapFails) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://a.test/").addCallback(readBody.withLimit(5)));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
  EXPECT_FALSE(page->fired());
  server->receive("4\r\nefgh\r\n");
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTooLargeError>());
  EXPECT_TRUE(server->aborted());
}

torsion::Deferred<std::string> fetchWithCoAwait(Agent& agent) {
  auto page = co_await agent.request("POST", "http://a.test/api", {}, std::make_shared<StringBodyProducer>("{}"))
                  .addCallback(readBody);
  co_return std::to_string(page.code) + " " + page.body;
}

TEST_F(ReadBodyCap, CoAwaitTheRequestThenReadBody) {
  Agent agent(reactor);
  auto result = watch(fetchWithCoAwait(agent));
  auto server = accept(0);
  EXPECT_EQ(take(server), "POST /api HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\n{}");
  server->receive(ok("{\"ok\":true}"));
  ASSERT_TRUE(result->value);
  EXPECT_EQ(*result->value, "200 {\"ok\":true}");
}

}  // namespace
