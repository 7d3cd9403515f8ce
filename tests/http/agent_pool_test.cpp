// Agent and HTTPConnectionPool on MemoryReactorClock: reuse, the cap and its FIFO queue,
// idle timeout, retry once (GET, never POST), connect and request timeouts, cancel,
// https without TLS, and an Agent destroyed with requests in flight.
#include <torsion/http/agent.hpp>

#include "client_test_support.hpp"

namespace {

using namespace torsion::http;
using torsion_test::ClientTest;
using torsion_test::watch;

const ConnectionKey kKey{"http", "example.com", 80};

class AgentPool : public ClientTest {
 protected:
  std::shared_ptr<HTTPConnectionPool> makePool(PoolOptions options = {}) {
    return std::make_shared<HTTPConnectionPool>(reactor, reactor, options);
  }
};

TEST_F(AgentPool, AKeptAliveConnectionIsReused) {
  Agent agent(reactor);
  auto first = watch(agent.request("GET", "http://example.com/a").addCallback(readBody));
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "example.com");
  EXPECT_EQ(reactor.tcpClients[0].port, 80);
  auto server = accept(0);
  EXPECT_EQ(take(server), "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n");
  server->receive(ok("one"));
  ASSERT_TRUE(first->value);
  EXPECT_EQ(first->value->body, "one");
  EXPECT_EQ(first->value->request->url.toString(), "http://example.com/a");
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 1u);

  auto second = watch(agent.request("GET", "http://example.com/b").addCallback(readBody));
  EXPECT_EQ(reactor.tcpClients.size(), 1u);  // no new connection
  EXPECT_EQ(take(server), "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n");
  server->receive(ok("two"));
  ASSERT_TRUE(second->value);
  EXPECT_EQ(second->value->body, "two");
}

TEST_F(AgentPool, ARequestMadeWhenTheBodyEndsReusesTheConnection) {
  Agent agent(reactor);
  std::shared_ptr<torsion_test::Outcome<Response>> second;
  agent.request("GET", "http://example.com/a").addCallback(readBody).addCallback([&](const Response&) {
    second = watch(agent.request("GET", "http://example.com/b").addCallback(readBody));
  });
  auto server = accept(0);
  server->receive(ok("one"));
  ASSERT_TRUE(second);
  EXPECT_EQ(reactor.tcpClients.size(), 1u);
  take(server);
  server->receive(ok("two"));
  ASSERT_TRUE(second->value);
}

TEST_F(AgentPool, TheCapPerHostQueuesRequestsInArrivalOrder) {
  PoolOptions options;
  options.maxConnectionsPerHost = 2;
  Agent agent(reactor, makePool(options));
  std::vector<std::shared_ptr<torsion_test::Outcome<Response>>> pages;
  for (int i = 0; i < 5; ++i) {
    pages.push_back(watch(agent.request("GET", "http://example.com/" + std::to_string(i)).addCallback(readBody)));
  }
  ASSERT_EQ(reactor.tcpClients.size(), 2u);
  EXPECT_EQ(agent.pool()->queuedRequests(kKey), 3u);
  EXPECT_EQ(agent.pool()->openConnections(kKey), 2u);
  auto a = accept(0);
  auto b = accept(1);
  EXPECT_EQ(take(a), "GET /0 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(take(b), "GET /1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  b->receive(ok("1"));
  EXPECT_EQ(take(b), "GET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n");  // the queue's head
  a->receive(ok("0"));
  EXPECT_EQ(take(a), "GET /3 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  b->receive(ok("2"));
  EXPECT_EQ(take(b), "GET /4 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  a->receive(ok("3"));
  b->receive(ok("4"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pages[i]->value) << i;
    EXPECT_EQ(pages[i]->value->body, std::to_string(i));
  }
  EXPECT_EQ(reactor.tcpClients.size(), 2u);
  EXPECT_EQ(agent.pool()->queuedRequests(kKey), 0u);
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 2u);
}

TEST_F(AgentPool, AConnectionThatIsLostFreesItsPlaceForTheQueue) {
  PoolOptions options;
  options.maxConnectionsPerHost = 1;
  Agent agent(reactor, makePool(options));
  auto first = watch(agent.request("GET", "http://example.com/a").addCallback(readBody));
  auto second = watch(agent.request("GET", "http://example.com/b").addCallback(readBody));
  auto a = accept(0);
  a->receive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_TRUE(first->value);
  EXPECT_TRUE(a->disconnecting());
  EXPECT_EQ(reactor.tcpClients.size(), 1u);
  connector(0)->dropConnection();
  ASSERT_EQ(reactor.tcpClients.size(), 2u);
  auto b = accept(1);
  EXPECT_EQ(take(b), "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n");
}

TEST_F(AgentPool, IdleConnectionsCloseAfterTheIdleTimeout) {
  PoolOptions options;
  options.idleTimeout = 10;
  Agent agent(reactor, makePool(options));
  watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  auto server = accept(0);
  server->receive(ok(""));
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 1u);
  reactor.advance(9.9);
  EXPECT_FALSE(server->disconnecting());
  reactor.advance(0.2);
  EXPECT_TRUE(server->disconnecting());
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 0u);
  connector(0)->dropConnection();
  EXPECT_EQ(agent.pool()->openConnections(kKey), 0u);
}

TEST_F(AgentPool, AnIdleConnectionTheServerClosesIsDropped) {
  Agent agent(reactor);
  watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  accept(0)->receive(ok(""));
  connector(0)->dropConnection();
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 0u);
  watch(agent.request("GET", "http://example.com/"));
  EXPECT_EQ(reactor.tcpClients.size(), 2u);
}

TEST_F(AgentPool, AStaleKeptAliveConnectionIsRetriedOnceForGet) {
  Agent agent(reactor);
  watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  auto a = accept(0);
  a->receive(ok(""));
  take(a);
  auto page = watch(agent.request("GET", "http://example.com/again").addCallback(readBody));
  EXPECT_EQ(take(a).substr(0, 10), "GET /again");
  connector(0)->dropConnection();  // the server had closed it: not a byte of response
  ASSERT_EQ(reactor.tcpClients.size(), 2u);
  EXPECT_FALSE(page->fired());
  auto b = accept(1);
  EXPECT_EQ(take(b).substr(0, 10), "GET /again");
  b->receive(ok("fresh"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "fresh");
}

TEST_F(AgentPool, TheRetryHappensOnlyOnce) {
  Agent agent(reactor);
  watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  accept(0)->receive(ok(""));
  auto page = watch(agent.request("GET", "http://example.com/again"));
  connector(0)->dropConnection();
  accept(1);
  connector(1)->dropConnection();  // the fresh connection fails the same way: no third try
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseNeverReceivedError>());
  EXPECT_EQ(reactor.tcpClients.size(), 2u);
}

TEST_F(AgentPool, PostIsNeverRetried) {
  Agent agent(reactor);
  watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  accept(0)->receive(ok(""));
  auto page = watch(agent.request("POST", "http://example.com/form", {}, std::make_shared<StringBodyProducer>("x")));
  connector(0)->dropConnection();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseNeverReceivedError>());
  EXPECT_EQ(reactor.tcpClients.size(), 1u);
}

TEST_F(AgentPool, AFreshConnectionThatFailsIsNotRetried) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://example.com/"));
  accept(0);
  connector(0)->dropConnection();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseNeverReceivedError>());
  EXPECT_EQ(reactor.tcpClients.size(), 1u);
}

TEST_F(AgentPool, ConnectTimeoutFailsWithTimeoutError) {
  AgentOptions options;
  options.connectTimeout = 5;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://example.com/"));
  EXPECT_EQ(reactor.tcpClients[0].timeout, 5);
  reactor.advance(4.9);
  EXPECT_FALSE(page->fired());
  reactor.advance(0.2);
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::TimeoutError>()) << page->failure->toString();
  EXPECT_TRUE(connector(0)->stoppedConnecting());
  EXPECT_EQ(agent.pool()->openConnections(kKey), 0u);
}

TEST_F(AgentPool, ConnectionRefusedFailsTheRequest) {
  Agent agent(reactor);
  auto page = watch(agent.request("GET", "http://example.com/"));
  connector(0)->failConnection();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::ConnectionRefusedError>());
}

TEST_F(AgentPool, RequestTimeoutFailsAndTheConnectionIsNotReused) {
  AgentOptions options;
  options.requestTimeout = 3;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  auto server = accept(0);
  reactor.advance(3.1);
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::TimeoutError>()) << page->failure->toString();
  EXPECT_TRUE(server->aborted());
  connector(0)->dropConnection();
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 0u);
  EXPECT_EQ(agent.pool()->openConnections(kKey), 0u);
}

TEST_F(AgentPool, RequestTimeoutCoversTheBody) {
  AgentOptions options;
  options.requestTimeout = 3;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
  reactor.advance(3.1);
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::TimeoutError>()) << page->failure->toString();
  EXPECT_TRUE(server->aborted());
}

TEST_F(AgentPool, RequestTimeoutIsCancelledWhenTheBodyEnds) {
  AgentOptions options;
  options.requestTimeout = 3;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  accept(0)->receive(ok("x"));
  ASSERT_TRUE(page->value);
  EXPECT_TRUE(reactor.getDelayedCalls().size() == 1u);  // only the idle timeout is left
}

TEST_F(AgentPool, CancelWhileQueuedLeavesTheQueue) {
  PoolOptions pool;
  pool.maxConnectionsPerHost = 1;
  Agent agent(reactor, makePool(pool));
  auto first = watch(agent.request("GET", "http://example.com/1").addCallback(readBody));
  auto queued = agent.request("GET", "http://example.com/2");
  auto second = watch(queued);
  EXPECT_EQ(agent.pool()->queuedRequests(kKey), 1u);
  queued.cancel();
  ASSERT_TRUE(second->failure);
  EXPECT_TRUE(second->failure->check<torsion::CancelledError>());
  EXPECT_EQ(agent.pool()->queuedRequests(kKey), 0u);
  auto server = accept(0);
  take(server);
  server->receive(ok("1"));
  EXPECT_EQ(take(server), "");  // nothing sent for the cancelled request
}

TEST_F(AgentPool, CancelWhileConnectingStopsConnecting) {
  Agent agent(reactor);
  auto d = agent.request("GET", "http://example.com/");
  auto page = watch(d);
  d.cancel();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::CancelledError>());
  EXPECT_TRUE(connector(0)->stoppedConnecting());
  EXPECT_EQ(agent.pool()->openConnections(kKey), 0u);
}

TEST_F(AgentPool, CancelWhileWaitingForTheResponseAbortsTheConnection) {
  Agent agent(reactor);
  auto d = agent.request("GET", "http://example.com/");
  auto page = watch(d);
  auto server = accept(0);
  d.cancel();
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<torsion::CancelledError>());
  EXPECT_TRUE(server->aborted());
  connector(0)->dropConnection();
  EXPECT_EQ(agent.pool()->idleConnections(kKey), 0u);
}

TEST_F(AgentPool, HttpsIsTlsByDefault) {
  Agent agent(reactor);
  auto d = agent.request("GET", "https://example.com/secret");
  auto page = watch(d);
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  auto server = accept(0);
  const std::string sent = take(server);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0], '\x16') << "the first byte is not a TLS handshake record";  // a ClientHello
  EXPECT_EQ(sent.find("GET"), std::string::npos);
  EXPECT_NE(sent.find("example.com"), std::string::npos) << "no SNI";
  EXPECT_FALSE(page->value || page->failure);
  d.cancel();
  EXPECT_TRUE(server->aborted());
  connector(0)->dropConnection();  // the loss an aborted real transport reports
}

TEST_F(AgentPool, HttpsFailsAtOnceWithoutSendingAnythingThroughPlainConnect) {
  AgentOptions options;
  options.connect = torsion::http::plainConnect;
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "https://example.com/secret"));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<TlsUnavailableError>()) << page->failure->toString();
  EXPECT_NE(page->failure->getErrorMessage().find("plainConnect does not speak TLS"), std::string::npos);
  EXPECT_TRUE(reactor.tcpClients.empty());
}

TEST_F(AgentPool, TheConnectFunctionIsTheExtensionPoint) {
  AgentOptions options;
  std::vector<ConnectionKey> asked;
  options.connect = [&](torsion::IReactorTCP& r, const ConnectionKey& key,
                        std::shared_ptr<torsion::ClientFactory> factory, double timeout) {
    asked.push_back(key);
    return r.connectTCP("127.0.0.9", 4443, std::move(factory), timeout);  // a TLS wrapper would go here
  };
  Agent agent(reactor, nullptr, options);
  auto page = watch(agent.request("GET", "https://example.com/").addCallback(readBody));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], (ConnectionKey{"https", "example.com", 443}));
  auto server = accept(0);
  EXPECT_EQ(take(server), "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  server->receive(ok("s"));
  ASSERT_TRUE(page->value);
}

TEST_F(AgentPool, InvalidUrlsAndMethodsFailAtOnce) {
  Agent agent(reactor);
  auto badUrl = watch(agent.request("GET", "http://exa mple.com/"));
  auto badScheme = watch(agent.request("GET", "ftp://example.com/"));
  auto badMethod = watch(agent.request("GE\r\nT", "http://example.com/"));
  ASSERT_TRUE(badUrl->failure);
  EXPECT_TRUE(badUrl->failure->check<InvalidUrlError>());
  ASSERT_TRUE(badScheme->failure);
  EXPECT_TRUE(badScheme->failure->check<UnsupportedSchemeError>());
  ASSERT_TRUE(badMethod->failure);
  EXPECT_TRUE(badMethod->failure->check<InvalidHeaderError>());
  EXPECT_TRUE(reactor.tcpClients.empty());
}

TEST_F(AgentPool, TheAgentMayGoWithRequestsInFlight) {
  std::shared_ptr<torsion_test::Outcome<Response>> page;
  {
    Agent agent(reactor);
    page = watch(agent.request("GET", "http://example.com/").addCallback(readBody));
  }
  auto server = accept(0);
  server->receive(ok("still here"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->body, "still here");
  EXPECT_TRUE(server->disconnecting());  // the last user of the pool went: it closes
}

TEST_F(AgentPool, TheAgentAndTheDeferredMayBothGoWithARequestInFlight) {
  {
    Agent agent(reactor);
    agent.request("GET", "http://example.com/");
  }
  auto server = accept(0);
  server->receive(ok("nobody listens"));
  connector(0)->dropConnection();
  reactor.advance(1000);
}

TEST_F(AgentPool, TheResponseMayOutliveTheConnection) {
  Agent agent(reactor);
  auto response = watch(agent.request("GET", "http://example.com/"));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
  ASSERT_TRUE(response->value);
  connector(0)->dropConnection();
  auto page = watch(readBody(*response->value));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTruncatedError>());
}

}  // namespace
