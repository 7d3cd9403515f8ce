#include <torsion/testing/memory_reactor.hpp>

#include <torsion/errors.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace torsion::testing {
namespace {

class Greeter : public Protocol {
 public:
  void connectionMade() override { transport().write("hello"); }
  void dataReceived(Bytes data) override { transport().write(data); }
};

// Records what a client factory is told.
class Watching : public ClientFactory {
 public:
  Watching() {
    protocol = [] { return std::make_shared<Greeter>(); };
  }
  void startFactory() override { events.push_back("start"); }
  void stopFactory() override { events.push_back("stop"); }
  void startedConnecting(Connector&) override { events.push_back("connecting"); }
  void clientConnectionFailed(Connector&, const Failure& reason) override {
    events.push_back("failed " + reason.typeName());
  }
  void clientConnectionLost(Connector&, const Failure& reason) override {
    events.push_back("lost " + reason.typeName());
  }
  std::vector<std::string> events;
};

TEST(MemoryReactor, ListenTcpIsRecordedAndAcceptPlaysAClient) {
  MemoryReactor reactor;
  auto factory = Factory::forProtocol<Greeter>();
  auto port = reactor.listenTCP(8080, factory, 5, "127.0.0.1");
  ASSERT_EQ(reactor.tcpServers.size(), 1u);
  EXPECT_EQ(reactor.tcpServers[0].port, 8080);
  EXPECT_EQ(reactor.tcpServers[0].backlog, 5);
  EXPECT_EQ(reactor.tcpServers[0].interface, "127.0.0.1");
  EXPECT_EQ(port->getHost().toString(), "127.0.0.1:8080");
  EXPECT_EQ(factory->numPorts(), 1);

  auto accepted = reactor.tcpServers[0].listeningPort->accept();
  ASSERT_NE(accepted.transport, nullptr);
  EXPECT_EQ(accepted.transport->value(), "hello");
  accepted.transport->receive("!");
  EXPECT_EQ(accepted.transport->value(), "hello!");
  EXPECT_EQ(accepted.protocol->factory, factory);

  port->stopListening();
  port->stopListening();
  EXPECT_FALSE(port->listening());
  EXPECT_EQ(factory->numPorts(), 0);
  EXPECT_THROW(reactor.tcpServers[0].listeningPort->accept(), std::logic_error);
}

TEST(MemoryReactor, ListenOnAllInterfacesReportsTheWildcard) {
  MemoryReactor reactor;
  auto port = reactor.listenTCP(0, Factory::forProtocol<Greeter>());
  EXPECT_EQ(port->getHost().toString(), "0.0.0.0:0");
  auto port6 = reactor.listenTCP(1, Factory::forProtocol<Greeter>(), 50, "::1");
  EXPECT_EQ(port6->getHost().family, Address::Family::ipv6);
}

TEST(MemoryReactor, ConnectTcpIsRecordedAndTheConnectorPlaysTheNetwork) {
  MemoryReactor reactor;
  auto factory = std::make_shared<Watching>();
  auto connector = reactor.connectTCP("example.com", 80, factory, 5);
  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "example.com");
  EXPECT_EQ(reactor.tcpClients[0].port, 80);
  EXPECT_EQ(reactor.tcpClients[0].timeout, 5);
  EXPECT_EQ(connector->state(), Connector::State::connecting);
  EXPECT_EQ(connector->getDestination().toString(), "example.com:80");
  EXPECT_EQ(factory->events, (std::vector<std::string>{"start", "connecting"}));

  auto& memory = *reactor.connectors.at(0);
  auto transport = memory.completeConnection();
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(connector->state(), Connector::State::connected);
  EXPECT_EQ(connector->transport(), transport);
  EXPECT_EQ(transport->value(), "hello");

  memory.dropConnection();
  EXPECT_EQ(connector->state(), Connector::State::disconnected);
  EXPECT_EQ(factory->events, (std::vector<std::string>{"start", "connecting", "lost torsion::ConnectionDone", "stop"}));
}

TEST(MemoryReactor, FailedAndCancelledAttempts) {
  MemoryReactor reactor;
  auto factory = std::make_shared<Watching>();
  reactor.connectTCP("::1", 80, factory);
  auto& connector = *reactor.connectors.at(0);
  EXPECT_EQ(connector.getDestination().family, Address::Family::ipv6);
  connector.failConnection();
  EXPECT_THROW(connector.failConnection(), std::logic_error);
  connector.connect();
  EXPECT_EQ(connector.connectCalls(), 1);
  connector.stopConnecting();
  EXPECT_TRUE(connector.stoppedConnecting());
  EXPECT_EQ(factory->events,
            (std::vector<std::string>{"start", "connecting", "failed torsion::ConnectionRefusedError", "stop", "start",
                                      "connecting", "failed torsion::ConnectingCancelledError", "stop"}));
  EXPECT_THROW(connector.stopConnecting(), std::logic_error);
}

TEST(MemoryReactor, DisconnectLosesAnEstablishedConnection) {
  MemoryReactor reactor;
  auto connector = reactor.connectTCP("h", 1, std::make_shared<Watching>());
  auto transport = reactor.connectors[0]->completeConnection();
  connector->disconnect();
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_EQ(reactor.connectors[0]->disconnectCalls(), 1);
}

TEST(MemoryReactor, RunRunsStartupWorkThenStops) {
  MemoryReactor reactor;
  std::string order;
  reactor.callWhenRunning([&] { order += 'w'; });
  reactor.addSystemEventTrigger(EventPhase::before, "startup", [&] { order += 's'; });
  reactor.addSystemEventTrigger(EventPhase::after, "shutdown", [&] { order += 'd'; });
  auto removed = reactor.addSystemEventTrigger(EventPhase::during, "shutdown", [&] { order += 'x'; });
  reactor.removeSystemEventTrigger(removed);
  EXPECT_THROW(reactor.removeSystemEventTrigger(removed), std::invalid_argument);
  reactor.run();
  EXPECT_EQ(order, "swd");
  EXPECT_TRUE(reactor.hasRun);
  EXPECT_TRUE(reactor.hasStopped);
  EXPECT_FALSE(reactor.running());
  EXPECT_THROW(reactor.stop(), ReactorNotRunning);
}

TEST(MemoryReactor, ReadersAndWritersAreRecorded) {
  struct Pipe : Selectable {
    int fileno() const override { return 3; }
  } pipe;
  MemoryReactor reactor;
  reactor.addReader(pipe);
  reactor.addReader(pipe);
  reactor.addWriter(pipe);
  EXPECT_EQ(reactor.readers.size(), 1u);
  reactor.removeAll(pipe);
  EXPECT_TRUE(reactor.readers.empty());
  EXPECT_TRUE(reactor.writers.empty());
}

TEST(MemoryReactorClock, IsBothAReactorAndAClock) {
  MemoryReactorClock reactor;
  bool fired = false;
  reactor.callLater(1, [&] { fired = true; });
  reactor.connectTCP("h", 1, std::make_shared<Watching>());
  reactor.advance(1);
  EXPECT_TRUE(fired);
  EXPECT_EQ(reactor.connectors.size(), 1u);
}

}  // namespace
}  // namespace torsion::testing
