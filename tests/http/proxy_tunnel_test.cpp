// connectThroughProxy and the Agent's https through a proxy, on MemoryReactorClock: the
// CONNECT request's bytes, the origin-form request through the tunnel, pool keys per
// target, and every way a tunnel fails (a refusal, garbage, an oversized answer, the
// proxy closing first, the connect timeout). The tunnel carries plain text here (TLS
// over it is https_proxy_test's, against tinyproxy and nginx).
#include <torsion/http/agent.hpp>
#include <torsion/http/proxy_tunnel.hpp>

#include "client_test_support.hpp"

namespace {

using namespace torsion::http;
using torsion_test::ClientTest;
using torsion_test::watch;

// A ConnectFunction that tunnels without TLS, so the test can read the tunnel's bytes.
std::shared_ptr<torsion::Connector> tunnelInPlainText(torsion::IReactorTCP& reactor, const ConnectionKey& key,
                                                      std::shared_ptr<torsion::ClientFactory> factory, double timeout) {
  if (key.tunnel) return connectThroughProxy(reactor, key, std::move(factory), timeout);
  return reactor.connectTCP(key.host, key.port, std::move(factory), timeout);
}

class ProxyTunnel : public ClientTest {
 protected:
  AgentOptions options() const {
    AgentOptions result;
    ProxyConfig proxy;
    proxy.host = "proxy.test";
    proxy.port = 3128;
    proxy.authorization = "Basic dXNlcjpzZWNyZXQ=";
    result.proxy = proxy;
    result.connect = tunnelInPlainText;
    return result;
  }
  static constexpr const char* established = "HTTP/1.1 200 Connection established\r\n\r\n";
};

TEST_F(ProxyTunnel, ConnectThenAnOriginFormRequestThroughTheTunnel) {
  Agent agent(reactor, nullptr, options());
  auto page = watch(agent.request("GET", "https://example.com/p?q=1").addCallback(readBody));
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "proxy.test");
  EXPECT_EQ(reactor.tcpClients[0].port, 3128);
  auto proxy = accept(0);
  EXPECT_EQ(take(proxy),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
            "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n");
  EXPECT_EQ(connector(0)->state(), torsion::Connector::State::connected);  // TCP only
  proxy->receive(established);
  EXPECT_EQ(take(proxy), "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  proxy->receive(ok("through"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "through");
  EXPECT_EQ(agent.pool()->idleConnections(
                ConnectionKey{"https", "example.com", 443, TunnelProxy{"proxy.test", 3128, "Basic dXNlcjpzZWNyZXQ="}}),
            1u);
  connector(0)->dropConnection();  // a StringTransport reports no loss by itself
}

TEST_F(ProxyTunnel, TunnelsAreKeyedByTarget) {
  Agent agent(reactor, nullptr, options());
  auto first = watch(agent.request("GET", "https://example.com/").addCallback(readBody));
  auto proxy = accept(0);
  proxy->receive(established);
  take(proxy);
  proxy->receive(ok("1"));
  ASSERT_TRUE(first->value);
  // The same target reuses the tunnel: no new connection, no second CONNECT.
  auto again = watch(agent.request("GET", "https://example.com/again").addCallback(readBody));
  EXPECT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(take(proxy), "GET /again HTTP/1.1\r\nHost: example.com\r\n\r\n");
  proxy->receive(ok("2"));
  ASSERT_TRUE(again->value);
  // Another target through the same proxy is another tunnel.
  auto other = watch(agent.request("GET", "https://other.test:8443/"));
  ASSERT_EQ(reactor.tcpClients.size(), 2u);
  EXPECT_EQ(reactor.tcpClients[1].host, "proxy.test");
  auto second = accept(1);
  EXPECT_EQ(take(second).substr(0, 40), "CONNECT other.test:8443 HTTP/1.1\r\nHost: ");
  // http:// to the same host goes to the proxy in absolute form, on a connection of its own.
  auto plain = watch(agent.request("GET", "http://example.com/"));
  ASSERT_EQ(reactor.tcpClients.size(), 3u);
  EXPECT_EQ(take(accept(2)), "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
  for (std::size_t i = 0; i < 3; ++i) connector(i)->dropConnection();  // no StringTransport ends by itself
  EXPECT_TRUE(other->failure && plain->failure);
}

TEST_F(ProxyTunnel, ARefusalIsAProxyConnectErrorAndTheConnectionIsClosed) {
  Agent agent(reactor, nullptr, options());
  auto page = watch(agent.request("GET", "https://example.com/"));
  auto proxy = accept(0);
  take(proxy);
  proxy->receive("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nno tunnel");
  EXPECT_TRUE(proxy->aborted());
  EXPECT_FALSE(page->value || page->failure);  // reported once the connection is gone
  connector(0)->dropConnection(torsion::Failure(torsion::ConnectionAborted()));
  ASSERT_TRUE(page->failure);
  const auto* error = page->failure->value<ProxyConnectError>();
  ASSERT_NE(error, nullptr) << page->failure->toString();
  EXPECT_EQ(error->code(), 403);
  EXPECT_NE(std::string(error->what()).find("proxy.test:3128 refused CONNECT example.com:443: 403 Forbidden"),
            std::string::npos)
      << error->what();
  EXPECT_EQ(proxy->value(), "") << "nothing was sent after the refusal";
  EXPECT_EQ(agent.pool()->openConnections(
                ConnectionKey{"https", "example.com", 443, TunnelProxy{"proxy.test", 3128, "Basic dXNlcjpzZWNyZXQ="}}),
            0u);
}

TEST_F(ProxyTunnel, GarbageAnOversizedAnswerOrAProxyClosingFirstAreProxyConnectErrors) {
  struct Case {
    std::string answer;  // empty: the proxy closes without answering
    std::string expected;
  };
  const std::vector<Case> cases{
      {"SSH-2.0-OpenSSH_9.2\r\n", "not a valid HTTP answer"},
      {"HTTP/1.1 200 OK\r\nX-Padding: " + std::string(maxProxyAnswerBytes, 'x') + "\r\n\r\n",
       "larger than the limit of " + std::to_string(maxProxyAnswerBytes)},
      {"", "closed the connection before answering CONNECT example.com:443"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Agent agent(reactor, nullptr, options());
    auto page = watch(agent.request("GET", "https://example.com/"));
    auto proxy = accept(i);
    take(proxy);
    if (!cases[i].answer.empty()) {
      proxy->receive(cases[i].answer);
      EXPECT_TRUE(proxy->aborted()) << i;
    }
    connector(i)->dropConnection();
    ASSERT_TRUE(page->failure) << i;
    const auto* error = page->failure->value<ProxyConnectError>();
    ASSERT_NE(error, nullptr) << page->failure->toString();
    EXPECT_EQ(error->code(), 0);
    EXPECT_NE(std::string(error->what()).find(cases[i].expected), std::string::npos) << error->what();
  }
}

TEST_F(ProxyTunnel, TheConnectTimeoutCoversTheProxysAnswer) {
  AgentOptions withTimeout = options();
  withTimeout.connectTimeout = 5;
  Agent agent(reactor, nullptr, withTimeout);
  auto page = watch(agent.request("GET", "https://example.com/"));
  auto proxy = accept(0);
  reactor.advance(4.9);
  EXPECT_FALSE(proxy->aborted());
  reactor.advance(0.2);
  EXPECT_TRUE(proxy->aborted()) << "a proxy that never answers must not hold the request";
  connector(0)->dropConnection(torsion::Failure(torsion::ConnectionAborted()));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::TimeoutError>()) << page->failure->toString();
}

TEST_F(ProxyTunnel, AProxyThatCannotBeReachedFailsWithTheConnectError) {
  Agent agent(reactor, nullptr, options());
  auto page = watch(agent.request("GET", "https://example.com/"));
  connector(0)->failConnection();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::ConnectionRefusedError>()) << page->failure->toString();
}

TEST_F(ProxyTunnel, HeaderInjectionThroughTheAuthorizationIsRefusedAtOnce) {
  AgentOptions bad = options();
  bad.proxy->authorization = "Basic x\r\nX-Evil: 1";
  Agent agent(reactor, nullptr, bad);
  auto page = watch(agent.request("GET", "https://example.com/"));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<InvalidHeaderError>()) << page->failure->toString();
  EXPECT_TRUE(reactor.tcpClients.empty());
}

TEST_F(ProxyTunnel, WhichUrlsTheProxyAppliesTo) {
  ProxyConfig config;
  config.host = "proxy.test";
  EXPECT_TRUE(config.appliesTo(Url::parse("http://a.test/")));
  EXPECT_TRUE(config.appliesTo(Url::parse("https://a.test/")));
  config.schemes = {"http"};
  EXPECT_FALSE(config.appliesTo(Url::parse("https://a.test/")));
  // http_proxy is for http:// only, as curl reads it.
  EXPECT_FALSE(ProxyConfig::fromValues("proxy:3128", "")->appliesTo(Url::parse("https://a.test/")));
  // A key without a tunnel cannot be tunnelled.
  EXPECT_THROW(connectThroughProxy(reactor, ConnectionKey{"https", "a.test", 443, std::nullopt},
                                   std::make_shared<torsion::ClientFactory>(), 1),
               std::invalid_argument);
}

}  // namespace
