#include <torsion/testing/memory_reactor.hpp>

#include <torsion/deferred_thread.hpp>
#include <torsion/errors.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/reconnecting_client_factory.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
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

// Code written against the narrow interfaces, as a user's would be: it never names
// MemoryReactor or Reactor.
std::shared_ptr<ListeningPort> serveOn(IReactorTCP& reactor) {
  return reactor.listenTCP(8080, Factory::forProtocol<Greeter>(), 5, "127.0.0.1");
}
std::shared_ptr<Connector> dialUnix(IReactorUNIX& reactor, std::shared_ptr<ClientFactory> factory) {
  return reactor.connectUNIX("/run/app.sock", std::move(factory), 2);
}
void stopWhenRunning(IReactorCore& reactor, std::string& log) {
  reactor.callWhenRunning([&reactor, &log] {
    log += "running;";
    reactor.stop();
  });
}

TEST(MemoryReactor, StandsInForEveryReactorInterface) {
  MemoryReactorClock reactor;
  IReactorCore& core = reactor;
  IReactorTCP& tcp = reactor;
  IReactorUNIX& unixSockets = reactor;
  IReactorUDP& udp = reactor;
  IReactorThreads& threads = reactor;
  IReactorFDSet& fdSet = reactor;
  IReactorTime& time = reactor;
  (void)udp;
  (void)threads;
  (void)fdSet;
  (void)time;

  serveOn(tcp);
  ASSERT_EQ(reactor.tcpServers.size(), 1u);
  EXPECT_EQ(reactor.tcpServers[0].interface, "127.0.0.1");

  auto factory = std::make_shared<Watching>();
  auto connector = dialUnix(unixSockets, factory);
  ASSERT_EQ(reactor.unixClients.size(), 1u);
  EXPECT_EQ(reactor.unixClients[0].path, "/run/app.sock");
  EXPECT_EQ(reactor.unixClients[0].timeout, 2);
  EXPECT_EQ(connector->getDestination().toString(), "unix:/run/app.sock");
  EXPECT_EQ(reactor.connectors.at(0), connector);

  std::string log;
  stopWhenRunning(core, log);
  core.run(false);
  EXPECT_EQ(log, "running;");
  EXPECT_FALSE(reactor.signalHandlersRequested);
  EXPECT_TRUE(reactor.hasStopped);
}

TEST(MemoryReactor, ListenUnixIsRecordedAndAcceptPlaysAClient) {
  MemoryReactor reactor;
  auto factory = Factory::forProtocol<Greeter>();
  auto port = reactor.listenUNIX("/tmp/app.sock", factory, 7);
  ASSERT_EQ(reactor.unixServers.size(), 1u);
  EXPECT_EQ(reactor.unixServers[0].path, "/tmp/app.sock");
  EXPECT_EQ(reactor.unixServers[0].backlog, 7);
  EXPECT_EQ(port->getHost(), (Address{Address::Family::unixSocket, "/tmp/app.sock", 0}));
  EXPECT_EQ(factory->numPorts(), 1);

  auto accepted = reactor.unixServers[0].listeningPort->accept();
  ASSERT_NE(accepted.transport, nullptr);
  EXPECT_EQ(accepted.transport->getPeer().family, Address::Family::unixSocket);
  EXPECT_EQ(accepted.transport->value(), "hello");
  port->stopListening();
  EXPECT_EQ(factory->numPorts(), 0);
}

TEST(MemoryReactor, ConnectUnixPlaysTheNetworkAsConnectTcp) {
  MemoryReactor reactor;
  auto factory = std::make_shared<Watching>();
  reactor.connectUNIX("/run/app.sock", factory);
  auto transport = reactor.connectors.at(0)->completeConnection();
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport->getPeer(), (Address{Address::Family::unixSocket, "/run/app.sock", 0}));
  EXPECT_EQ(transport->getHost().family, Address::Family::unixSocket);
  EXPECT_EQ(transport->value(), "hello");
  reactor.connectors[0]->dropConnection();
  EXPECT_EQ(factory->events, (std::vector<std::string>{"start", "connecting", "lost torsion::ConnectionDone", "stop"}));
}

class DatagramRecorder : public DatagramProtocol {
 public:
  void startProtocol() override { events.push_back("start"); }
  void stopProtocol() override { events.push_back("stop"); }
  void datagramReceived(Bytes data, const Address& from) override {
    events.push_back(std::string(data) + " from " + from.toString());
    transport().write(data, from);
  }
  void connectionRefused() override { events.push_back("refused"); }
  std::vector<std::string> events;
};

TEST(MemoryReactor, ListenUdpIsRecordedAndTheTransportPlaysDatagrams) {
  MemoryReactor reactor;
  auto protocol = std::make_shared<DatagramRecorder>();
  IReactorUDP& udp = reactor;
  auto transport = udp.listenUDP(9999, protocol, "127.0.0.1", 512);
  ASSERT_EQ(reactor.udpPorts.size(), 1u);
  EXPECT_EQ(reactor.udpPorts[0].port, 9999);
  EXPECT_EQ(reactor.udpPorts[0].interface, "127.0.0.1");
  EXPECT_EQ(reactor.udpPorts[0].maxPacketSize, 512u);
  EXPECT_EQ(transport->getHost().toString(), "127.0.0.1:9999");
  auto& memory = *reactor.udpPorts[0].transport;

  const Address peer{Address::Family::ipv4, "127.0.0.1", 4000};
  memory.receive("ping", peer);
  ASSERT_EQ(memory.written.size(), 1u);
  EXPECT_EQ(memory.written[0].data, "ping");
  EXPECT_EQ(memory.written[0].to, peer);

  EXPECT_THROW(transport->write("x"), std::logic_error);  // not connected
  transport->connect(peer);
  EXPECT_EQ(memory.connectedTo(), peer);
  EXPECT_THROW(transport->write("x", Address{Address::Family::ipv4, "127.0.0.1", 1}), std::logic_error);
  memory.receive("ignored", Address{Address::Family::ipv4, "127.0.0.1", 1});  // the kernel filters it
  memory.reportConnectionRefused();
  transport->stopListening();
  transport->stopListening();
  memory.receive("late", peer);
  transport->write("late");
  EXPECT_EQ(memory.written.size(), 1u);
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"start", "ping from 127.0.0.1:4000", "refused", "stop"}));
}

TEST(MemoryReactor, ThreadCallsWaitForTheTest) {
  MemoryReactor reactor;
  std::string order;
  reactor.callInThread([&] { order += "job;"; });
  std::thread other([&] { reactor.callFromThread([&] { order += "from-thread;"; }); });
  other.join();
  EXPECT_EQ(order, "");
  EXPECT_EQ(reactor.pendingCallsFromThreads(), 1u);
  EXPECT_EQ(reactor.pendingThreadPoolJobs(), 1u);
  EXPECT_EQ(reactor.runThreadPoolJobs(), 1u);
  EXPECT_EQ(reactor.runCallsFromThreads(), 1u);
  EXPECT_EQ(order, "job;from-thread;");

  // A call queued by a running call waits for the next run, as on the reactor.
  reactor.callFromThread([&] { reactor.callFromThread([&] { order += "second;"; }); });
  EXPECT_EQ(reactor.runCallsFromThreads(), 1u);
  EXPECT_EQ(reactor.runCallsFromThreads(), 1u);
  EXPECT_EQ(order, "job;from-thread;second;");

  reactor.suggestThreadPoolSize(3);
  EXPECT_EQ(reactor.threadPoolSize, 3u);
  EXPECT_THROW(reactor.suggestThreadPoolSize(0), std::invalid_argument);
}

TEST(MemoryReactor, DeferToThreadRunsWhenTheTestSays) {
  MemoryReactor reactor;
  std::optional<int> result;
  deferToThread(reactor, [] { return 42; }).addCallback([&](int value) { result = value; });
  EXPECT_FALSE(result);
  reactor.runThreadPoolJobs();  // the "pool" computes 42 and reports back
  EXPECT_FALSE(result);         // ... through callFromThread, still queued
  reactor.runCallsFromThreads();
  EXPECT_EQ(result, 42);
}

// As a Reactor: an attempt still in progress is failed when the reactor goes, so its
// factory is stopped; an established connection is the test's to end.
TEST(MemoryReactor, DestructionFailsTheAttemptsStillConnecting) {
  auto pending = std::make_shared<Watching>();
  auto connected = std::make_shared<Watching>();
  {
    MemoryReactor reactor;
    reactor.connectTCP("h", 1, pending);
    reactor.connectTCP("h", 2, connected);
    reactor.connectors.at(1)->completeConnection();
  }
  EXPECT_EQ(pending->events,
            (std::vector<std::string>{"start", "connecting", "failed torsion::ConnectingCancelledError", "stop"}));
  EXPECT_EQ(connected->events, (std::vector<std::string>{"start", "connecting"}));
}

// A factory that connects again at once is not chased, and one that throws is logged.
TEST(MemoryReactor, DestructionIsBoundedAndSurvivesAThrowingFactory) {
  class Stubborn : public Watching {
   public:
    void clientConnectionFailed(Connector& connector, const Failure& reason) override {
      Watching::clientConnectionFailed(connector, reason);
      connector.connect();
      throw std::runtime_error("not giving up");
    }
  };
  auto factory = std::make_shared<Stubborn>();
  { MemoryReactor().connectTCP("h", 1, factory); }
  EXPECT_EQ(factory->events, (std::vector<std::string>{"start", "connecting",
                                                       "failed torsion::ConnectingCancelledError", "connecting"}));
}

// MemoryReactorClock fails the attempts while its clock still exists: a
// ReconnectingClientFactory schedules its retry on it from clientConnectionFailed.
TEST(MemoryReactorClock, DestructionFailsTheAttemptsWhileTheClockLives) {
  auto factory = std::make_shared<ReconnectingClientFactory>();
  factory->protocol = [] { return std::make_shared<Greeter>(); };
  {
    MemoryReactorClock reactor;
    factory->clock = &reactor;
    reactor.connectTCP("h", 1, factory);
  }
  EXPECT_EQ(factory->retries, 1);
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
