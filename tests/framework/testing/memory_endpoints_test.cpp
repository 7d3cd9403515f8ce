// Endpoints against testing::MemoryReactor: they take the narrow reactor interfaces, so
// their whole behaviour is tested without a socket (tests/transports/endpoints_test.cpp
// runs them on every real backend).
#include <torsion/endpoints.hpp>

#include <torsion/errors.hpp>
#include <torsion/testing/memory_reactor.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torsion {
namespace {

using testing::MemoryReactor;

class Greeter : public Protocol {
 public:
  void connectionMade() override {
    events.push_back("made");
    transport().write("ping");
  }
  void dataReceived(Bytes data) override { events.push_back("data " + std::string(data)); }
  void connectionLost(const Failure& reason) override { events.push_back("lost " + reason.typeName()); }
  std::vector<std::string> events;
};

class HalfCloser : public HalfCloseableProtocol {
 public:
  void readConnectionLost() override { events.push_back("read lost"); }
  void writeConnectionLost() override { events.push_back("write lost"); }
  std::vector<std::string> events;
};

class ThrowsOnConnect : public Protocol {
 public:
  void connectionMade() override { throw std::runtime_error("no thanks"); }
};

struct Outcome {
  std::shared_ptr<Protocol> protocol;
  std::string failure;
  bool done = false;
};

Outcome& record(Deferred<std::shared_ptr<Protocol>> d, Outcome& outcome) {
  d.addCallbacks(
      [&outcome](const std::shared_ptr<Protocol>& p) {
        outcome.protocol = p;
        outcome.done = true;
        return p;
      },
      [&outcome](const Failure& f) {
        outcome.failure = f.typeName();
        outcome.done = true;
        return std::shared_ptr<Protocol>();
      });
  return outcome;
}

TEST(EndpointsOnMemoryReactor, TcpClientFiresRightAfterConnectionMade) {
  MemoryReactor reactor;
  TCPClientEndpoint endpoint(reactor, "example.com", 80, 5);
  Outcome outcome;
  auto factory = Factory::forProtocol<Greeter>();
  record(endpoint.connect(factory), outcome);
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "example.com");
  EXPECT_EQ(reactor.tcpClients[0].port, 80);
  EXPECT_EQ(reactor.tcpClients[0].timeout, 5);
  EXPECT_FALSE(outcome.done);

  auto transport = reactor.connectors.at(0)->completeConnection();
  ASSERT_TRUE(outcome.done);  // at once: no reactor pass is needed
  auto greeter = std::dynamic_pointer_cast<Greeter>(outcome.protocol);
  ASSERT_NE(greeter, nullptr);
  EXPECT_EQ(greeter->factory, factory);
  EXPECT_EQ(greeter->transportPtr(), transport);
  EXPECT_EQ(transport->value(), "ping");

  // The user's protocol hears everything the transport reports.
  transport->receive("pong");
  transport->reportConnectionLost(Failure(ConnectionDone()));
  EXPECT_FALSE(greeter->connected());
  EXPECT_EQ(greeter->events, (std::vector<std::string>{"made", "data pong", "lost torsion::ConnectionDone"}));
}

TEST(EndpointsOnMemoryReactor, AFailedAttemptFailsTheDeferred) {
  MemoryReactor reactor;
  Outcome outcome;
  record(TCPClientEndpoint(reactor, "10.0.0.2", 1).connect(Factory::forProtocol<Greeter>()), outcome);
  reactor.connectors.at(0)->failConnection(Failure(ConnectionRefusedError()));
  EXPECT_EQ(outcome.failure, "torsion::ConnectionRefusedError");
}

TEST(EndpointsOnMemoryReactor, CancellingStopsTheAttempt) {
  MemoryReactor reactor;
  Outcome outcome;
  auto d = TCPClientEndpoint(reactor, "10.0.0.2", 1).connect(Factory::forProtocol<Greeter>());
  record(d, outcome);
  d.cancel();
  EXPECT_TRUE(reactor.connectors.at(0)->stoppedConnecting());
  EXPECT_EQ(outcome.failure, "torsion::ConnectingCancelledError");
}

// The reactor going away fails a pending connect, as a real Reactor does, instead of
// dropping the Deferred unfired with the connector that held it.
TEST(EndpointsOnMemoryReactor, DestroyingTheReactorFailsAPendingConnect) {
  Outcome outcome;
  {
    MemoryReactor reactor;
    record(TCPClientEndpoint(reactor, "10.0.0.2", 1).connect(Factory::forProtocol<Greeter>()), outcome);
    EXPECT_FALSE(outcome.done);
  }
  EXPECT_EQ(outcome.failure, "torsion::ConnectingCancelledError");
}

TEST(EndpointsOnMemoryReactor, AConnectionMadeThatThrowsFailsTheDeferredWhenTheConnectionIsLost) {
  MemoryReactor reactor;
  Outcome outcome;
  record(TCPClientEndpoint(reactor, "10.0.0.2", 1).connect(Factory::forProtocol<ThrowsOnConnect>()), outcome);
  EXPECT_THROW(reactor.connectors.at(0)->completeConnection(), std::runtime_error);
  EXPECT_FALSE(outcome.done);
  reactor.connectors[0]->dropConnection(Failure(ConnectionAborted()));  // what the transport does next
  EXPECT_EQ(outcome.failure, "torsion::ConnectionAborted");
}

TEST(EndpointsOnMemoryReactor, AHalfCloseableProtocolStaysHalfCloseable) {
  MemoryReactor reactor;
  Outcome outcome;
  record(UNIXClientEndpoint(reactor, "/run/app.sock").connect(Factory::forProtocol<HalfCloser>()), outcome);
  ASSERT_EQ(reactor.unixClients.size(), 1u);
  auto transport = reactor.connectors.at(0)->completeConnection();
  auto protocol = std::dynamic_pointer_cast<HalfCloser>(outcome.protocol);
  ASSERT_NE(protocol, nullptr);
  transport->receiveEof();  // a half-closeable protocol hears readConnectionLost
  EXPECT_TRUE(transport->connected());
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"read lost"}));
  reactor.connectors.at(0)->dropConnection();  // the protocol holds its transport until the loss
}

TEST(EndpointsOnMemoryReactor, StringsUseTheMatchingInterface) {
  MemoryReactor reactor;
  serverFromString(reactor, "tcp:8080:interface=127.0.0.1:backlog=9")->listen(Factory::forProtocol<Greeter>());
  serverFromString(reactor, "unix:/run/a.sock:backlog=3")->listen(Factory::forProtocol<Greeter>());
  clientFromString(reactor, "tcp:host=example.org:port=443:timeout=4:bindAddress=10.0.0.9")
      ->connect(Factory::forProtocol<Greeter>());
  clientFromString(reactor, "unix:path=/run/b.sock:timeout=2")->connect(Factory::forProtocol<Greeter>());

  ASSERT_EQ(reactor.tcpServers.size(), 1u);
  EXPECT_EQ(reactor.tcpServers[0].port, 8080);
  EXPECT_EQ(reactor.tcpServers[0].interface, "127.0.0.1");
  EXPECT_EQ(reactor.tcpServers[0].backlog, 9);
  ASSERT_EQ(reactor.unixServers.size(), 1u);
  EXPECT_EQ(reactor.unixServers[0].path, "/run/a.sock");
  EXPECT_EQ(reactor.unixServers[0].backlog, 3);
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "example.org");
  EXPECT_EQ(reactor.tcpClients[0].port, 443);
  EXPECT_EQ(reactor.tcpClients[0].timeout, 4);
  ASSERT_TRUE(reactor.tcpClients[0].bindAddress);
  EXPECT_EQ(reactor.tcpClients[0].bindAddress->host, "10.0.0.9");
  ASSERT_EQ(reactor.unixClients.size(), 1u);
  EXPECT_EQ(reactor.unixClients[0].path, "/run/b.sock");
  EXPECT_EQ(reactor.unixClients[0].timeout, 2);
}

TEST(EndpointsOnMemoryReactor, StringsCanSplitTcpAndUnixOverTwoReactors) {
  MemoryReactor tcp;
  MemoryReactor local;
  StreamReactors both(tcp, local);
  clientFromString(both, "tcp:h:1")->connect(Factory::forProtocol<Greeter>());
  clientFromString(both, "unix:/x")->connect(Factory::forProtocol<Greeter>());
  EXPECT_EQ(tcp.tcpClients.size(), 1u);
  EXPECT_TRUE(tcp.unixClients.empty());
  EXPECT_EQ(local.unixClients.size(), 1u);
  EXPECT_TRUE(local.tcpClients.empty());
}

TEST(EndpointsOnMemoryReactor, ListenFiresWithTheRecordedPort) {
  MemoryReactor reactor;
  TCPServerEndpoint endpoint(reactor, 80);
  std::shared_ptr<ListeningPort> port;
  endpoint.listen(Factory::forProtocol<Greeter>()).addCallback([&](const std::shared_ptr<ListeningPort>& p) {
    port = p;
  });
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port, reactor.tcpServers.at(0).listeningPort);
}

TEST(EndpointsOnMemoryReactor, ConnectProtocolHandsOutTheGivenProtocol) {
  MemoryReactor reactor;
  auto greeter = std::make_shared<Greeter>();
  std::shared_ptr<Greeter> connected;
  auto endpoint = clientFromString(reactor, "tcp:127.0.0.1:8080");
  connectProtocol(*endpoint, greeter).addCallback([&](const std::shared_ptr<Greeter>& p) { connected = p; });
  reactor.connectors.at(0)->completeConnection();
  EXPECT_EQ(connected, greeter);
  EXPECT_EQ(greeter->events, (std::vector<std::string>{"made"}));
  reactor.connectors.at(0)->dropConnection();  // the protocol holds its transport until the loss
}

}  // namespace
}  // namespace torsion
