// The HTTP client over real sockets on every backend, against a small HTTP server written
// with torsion in the test: a GET, a POST with a body, and keep-alive reuse.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include "loopback_server.hpp"
#include "reactor_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace torsion::http;

// Reads requests (head, then Content-Length bytes of body) and answers each with
// "<connection number> <method> <target> <body>", keeping the connection open.
class TinyServer : public torsion::Protocol {
 public:
  explicit TinyServer(int& connections) : number_(++connections) {}

  void dataReceived(torsion::Bytes data) override {
    buffer_.append(data);
    for (;;) {
      const auto end = buffer_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      const std::string head = buffer_.substr(0, end);
      std::size_t length = 0;
      if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
      if (buffer_.size() < end + 4 + length) return;
      const std::string body = buffer_.substr(end + 4, length);
      buffer_.erase(0, end + 4 + length);
      const std::string method = head.substr(0, head.find(' '));
      const std::string target = head.substr(method.size() + 1, head.find(' ', method.size() + 1) - method.size() - 1);
      const std::string answer = std::to_string(number_) + " " + method + " " + target + " " + body;
      transport().write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer.size()) + "\r\n\r\n" + answer);
    }
  }

 private:
  int number_;
  std::string buffer_;
};

class HttpClientSockets : public torsion_test::BackendTest {};

TEST_P(HttpClientSockets, GetPostAndKeepAliveReuse) {
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  int connections = 0;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<TinyServer>(std::ref(connections)));
  const std::string base = "http://127.0.0.1:" + std::to_string(server.portNumber());

  Agent agent(reactor);
  std::vector<std::string> bodies;
  std::optional<torsion::Failure> failure;
  const auto record = [&](torsion::Deferred<Response> d) {
    d.addCallback(readBody).addCallbacks([&](const Response& r) { bodies.push_back(r.body); },
                                         [&](const torsion::Failure& f) { failure = f; });
  };
  record(agent.request("GET", base + "/first"));
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return bodies.size() == 1 || failure; }, 10, "the GET"));
  record(agent.request("POST", base + "/form", {}, std::make_shared<StringBodyProducer>("name=value")));
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return bodies.size() == 2 || failure; }, 10, "the POST"));
  ASSERT_FALSE(failure) << failure->toString();
  EXPECT_EQ(bodies[0], "1 GET /first ");
  EXPECT_EQ(bodies[1], "1 POST /form name=value");  // the same connection
  EXPECT_EQ(connections, 1);

  // getPage on its own pool, with a new connection.
  std::optional<Response> page;
  getPage(reactor, base + "/page")
      .addCallbacks([&](Response r) { page = std::move(r); }, [&](const torsion::Failure& f) { failure = f; });
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return page || failure; }, 10, "getPage"));
  ASSERT_FALSE(failure) << failure->toString();
  EXPECT_EQ(page->body, "2 GET /page ");
}

// TCP_NODELAY read back from the Agent's own socket (getsockopt), on every backend: with
// Nagle on, a request written in two pieces waits for the server's delayed ACK.
TEST_P(HttpClientSockets, TheAgentsConnectionsHaveNagleOff) {
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  int connections = 0;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<TinyServer>(std::ref(connections)));
  std::vector<std::shared_ptr<torsion::Connector>> connectors;
  AgentOptions options;
  options.connect = [&connectors](torsion::IReactorTCP& r, const ConnectionKey& key,
                                  std::shared_ptr<torsion::ClientFactory> factory, double timeout) {
    connectors.push_back(plainConnect(r, key, std::move(factory), timeout));
    return connectors.back();
  };
  Agent agent(reactor, nullptr, options);
  std::optional<std::string> body;
  std::optional<torsion::Failure> failure;
  agent
      .request("POST", "http://127.0.0.1:" + std::to_string(server.portNumber()) + "/form", {},
               std::make_shared<StringBodyProducer>("a=b"))
      .addCallback(readBody)
      .addCallbacks([&](const Response& r) { body = r.body; }, [&](const torsion::Failure& f) { failure = f; });
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return body || failure; }, 10, "the POST"));
  ASSERT_FALSE(failure) << failure->toString();
  EXPECT_EQ(*body, "1 POST /form a=b");
  ASSERT_EQ(connectors.size(), 1u);
  auto transport = connectors.front()->transport();  // kept alive, idle in the pool
  ASSERT_NE(transport, nullptr);
  EXPECT_TRUE(transport->getTcpNoDelay());
}

// A server that reads and never answers.
class SilentServer : public torsion::Protocol {};

TEST_P(HttpClientSockets, TheReactorMayGoBeforeTheAgentWithRequestsInFlight) {
  auto reactor = std::make_unique<torsion_test::TestReactor>(backend());
  int connections = 0;
  torsion_test::LoopbackServer answering(**reactor, torsion::Factory::forProtocol<TinyServer>(std::ref(connections)));
  torsion_test::LoopbackServer silent(**reactor, torsion::Factory::forProtocol<SilentServer>());
  Agent agent(**reactor);
  std::optional<torsion::Failure> inFlight;
  bool idleReady = false;
  agent.request("GET", "http://127.0.0.1:" + std::to_string(answering.portNumber()) + "/")
      .addCallback(readBody)
      .addCallback([&](const Response&) { idleReady = true; });
  ASSERT_TRUE(torsion_test::runUntil(
      **reactor, [&] { return idleReady; }, 10, "the first response"));
  agent.request("GET", "http://127.0.0.1:" + std::to_string(silent.portNumber()) + "/")
      .addErrback([&](const torsion::Failure& f) {
        inFlight = f;
        return Response();
      });
  torsion_test::runFor(**reactor, 0.05);
  EXPECT_FALSE(inFlight);
  reactor.reset();  // closes both connections; the Agent and its pool stay
  ASSERT_TRUE(inFlight);
  EXPECT_TRUE(inFlight->check<ResponseNeverReceivedError>()) << inFlight->toString();
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HttpClientSockets);

}  // namespace
