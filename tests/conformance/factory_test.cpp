// Conformance: factories and connectors (startFactory/stopFactory, refusing connections,
// the ClientFactory callbacks, Connector's life), on every backend.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

using State = torsion::Connector::State;

class Factories : public BackendTest {};

class CountingFactory : public torsion::Factory {
 public:
  void startFactory() override { ++started; }
  void stopFactory() override { ++stopped; }
  int started = 0;
  int stopped = 0;
};

TEST_P(Factories, StartAndStopFactoryRunOnceAroundAllUse) {
  auto factory = std::make_shared<CountingFactory>();
  factory->protocol = [] { return std::make_shared<ScriptedProtocol>(); };
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto first = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  EXPECT_EQ(factory->started, 1);
  auto second = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->numPorts(), 2);
  first->stopListening();
  EXPECT_FALSE(first->listening());
  EXPECT_EQ(factory->stopped, 0);
  first->stopListening();  // again: nothing
  EXPECT_EQ(factory->stopped, 0);
  second->stopListening();
  EXPECT_EQ(factory->stopped, 1);
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->numPorts(), 0);
}

TEST_P(Factories, AStoppedPortRefusesNewConnections) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  const auto number = server.portNumber();
  Fd existing = torsion_test::connectLoopback(number);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  server.port()->stopListening();
  Built<ScriptedProtocol> clients;
  auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  reactor.connectTCP("127.0.0.1", number, clientFactory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clientFactory->finished(); }, 5, "the refusal"));
  EXPECT_TRUE(clientFactory->failedWith<torsion::ConnectionRefusedError>());
  EXPECT_FALSE(servers[0].lost()) << "existing connections outlive their port";
}

// A backend that holds a reference to a watched socket (io_uring's armed poll) must give
// it up when told to stop watching, before the close: else the closed port would keep
// its address until some later pass, and listening there again would fail.
TEST_P(Factories, AStoppedPortGivesBackItsAddressAtOnce) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers);
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  const auto number = port->getHost().port;
  for (int pass = 0; pass < 3; ++pass) reactor.iterate(0);  // the port is watched by now
  port->stopListening();
  EXPECT_NO_THROW(port = reactor.listenTCP(number, factory, 50, "127.0.0.1"));
  Fd client = torsion_test::connectLoopback(number);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept on the new port"));
}

TEST_P(Factories, BuildProtocolReturningNullRefusesTheConnection) {
  int asked = 0;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&]() -> std::shared_ptr<torsion::Protocol> {
    if (++asked == 1) return nullptr;
    auto protocol = std::make_shared<ScriptedProtocol>();
    servers.all.push_back(protocol);
    return protocol;
  };
  torsion_test::LoopbackServer server(reactor, factory);
  Fd refused = server.connectRaw();
  std::string got;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(refused.get(), got)); }, 5,
      "the refused peer to see the close"));
  EXPECT_TRUE(got.empty());
  Fd accepted = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the next connection"));
  EXPECT_EQ(servers[0].factory, factory) << "buildProtocol sets the protocol's factory";
}

TEST_P(Factories, AClientFactoryRefusingToBuildFailsTheAttempt) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = std::make_shared<ScriptedClientFactory>();
  factory->protocol = [] { return std::shared_ptr<torsion::Protocol>(); };
  auto connector = server.connect(factory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished(); }, 5, "the failure"));
  EXPECT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::ConnectError>()) << factory->failText();
  EXPECT_EQ(connector->state(), State::disconnected);
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);
}

TEST_P(Factories, ClientFactoryHearsOfEachStageOfAConnection) {
  std::vector<std::string> events;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol&) { events.push_back("connectionMade"); };
    p.onLost = [&](ScriptedProtocol&, const torsion::Failure&) { events.push_back("connectionLost"); };
  });
  factory->onStartedConnecting = [&](torsion::Connector& connector) {
    events.push_back("startedConnecting");
    EXPECT_EQ(connector.state(), State::connecting);
  };
  factory->onLost = [&](torsion::Connector& connector, const torsion::Failure&) {
    events.push_back("clientConnectionLost");
    EXPECT_EQ(connector.state(), State::disconnected);
    EXPECT_EQ(connector.transport(), nullptr);
  };
  auto connector = server.connect(factory);
  EXPECT_EQ(events, std::vector<std::string>{"startedConnecting"}) << "startedConnecting is called at once";
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(connector->getDestination(),
            (torsion::Address{torsion::Address::Family::ipv4, "127.0.0.1", server.portNumber()}));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].made(); }, 5, "the connection"));
  EXPECT_EQ(connector->state(), State::connected);
  ASSERT_NE(connector->transport(), nullptr);
  EXPECT_EQ(connector->transport().get(), clients[0].transportPtr().get());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  servers[0].transport().loseConnection();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->lostCount == 1; }, 5, "clientConnectionLost"));
  EXPECT_EQ(events, (std::vector<std::string>{"startedConnecting", "connectionMade", "connectionLost",
                                              "clientConnectionLost"}));
  EXPECT_TRUE(factory->lostWith<torsion::ConnectionDone>());
  EXPECT_EQ(factory->failedCount, 0);
  EXPECT_EQ(factory->stopped, 1);
}

TEST_P(Factories, AConnectorCanBeStoppedDisconnectedAndConnectedAgain) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  auto connector = server.connect(factory);
  ASSERT_EQ(connector->state(), State::connecting);
  EXPECT_THROW(connector->connect(), std::logic_error);
  connector->stopConnecting();
  EXPECT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::ConnectingCancelledError>()) << factory->failText();
  EXPECT_EQ(connector->state(), State::disconnected);
  EXPECT_THROW(connector->stopConnecting(), std::logic_error);
  torsion_test::runFor(reactor, 0.05);
  EXPECT_EQ(clients.size(), 0u) << "a stopped attempt must not connect later";

  connector->connect();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].made(); }, 5, "the second attempt"));
  EXPECT_EQ(connector->state(), State::connected);
  connector->disconnect();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->lostCount == 1; }, 5, "the disconnect"));
  EXPECT_TRUE(factory->lostWith<torsion::ConnectionDone>());
  EXPECT_EQ(connector->state(), State::disconnected);

  connector->connect();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 2 && clients[1].made(); }, 5, "the third attempt"));
  connector->disconnect();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->lostCount == 2; }, 5, "the second disconnect"));
  EXPECT_EQ(factory->started, factory->stopped) << "every start has its stop";
  connector->disconnect();  // disconnected already: nothing happens
}

TEST_P(Factories, DisconnectWhileConnectingCancelsTheAttempt) {
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  factory->onStartedConnecting = [](torsion::Connector& connector) { connector.disconnect(); };
  std::uint16_t port = 0;
  Fd listener = torsion_test::listenLoopback(port);
  reactor.connectTCP("127.0.0.1", port, factory, 5);
  torsion_test::runFor(reactor, 0.05);
  EXPECT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::ConnectingCancelledError>());
  EXPECT_EQ(clients.size(), 0u);
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);
}

TEST_P(Factories, ReconnectingFromTheClientCallbacksKeepsTheFactoryStarted) {
  // As ReconnectingClientFactory does: connect again from clientConnectionLost and from
  // clientConnectionFailed. The factory is started once and stopped once, at the end.
  int connections = 0;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
        p.onMade = [](ScriptedProtocol& self) { self.transport().loseConnection(); };
      }));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  factory->onLost = [&](torsion::Connector& connector, const torsion::Failure&) {
    if (++connections < 3) connector.connect();
  };
  server.connect(factory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->lostCount == 3; }, 5, "three connections"));
  torsion_test::runFor(reactor, 0.02);
  EXPECT_EQ(clients.size(), 3u);
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);

  int failures = 0;
  auto failing = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  failing->onFailed = [&](torsion::Connector& connector, const torsion::Failure&) {
    if (++failures < 3) connector.connect();
  };
  reactor.connectTCP("127.0.0.1", torsion_test::unusedPort(), failing, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return failing->failedCount == 3; }, 5, "three failures"));
  torsion_test::runFor(reactor, 0.02);
  EXPECT_EQ(failing->failedCount, 3);
  EXPECT_EQ(failing->startedConnectingCount, 3);
  EXPECT_EQ(failing->started, 1);
  EXPECT_EQ(failing->stopped, 1);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Factories);
