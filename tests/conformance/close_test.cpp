// Conformance: how connections end (clean close, reset, refusal, connect timeout, abort,
// reactor destruction) on every backend.
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

class Close : public BackendTest {};

TEST_P(Close, LoseConnectionIsACleanCloseOnBothEnds) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
        p.onMade = [](ScriptedProtocol& self) {
          self.transport().write("goodbye");
          self.transport().loseConnection();
          EXPECT_TRUE(self.transport().disconnecting());
        };
      }));
  auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  server.connect(clientFactory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clientFactory->lostCount == 1 && servers.size() == 1 && servers[0].lost(); }, 5,
      "the close"));
  EXPECT_EQ(clients[0].received, "goodbye");
  EXPECT_TRUE(clients[0].lostWith<torsion::ConnectionDone>()) << clients[0].lostText();
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
  EXPECT_TRUE(clientFactory->lostWith<torsion::ConnectionDone>());
  EXPECT_FALSE(servers[0].connected());
  EXPECT_FALSE(servers[0].transport().connected());
  EXPECT_EQ(clients[0].lostCount, 1);
  EXPECT_EQ(servers[0].lostCount, 1);
}

TEST_P(Close, PeerCloseIsConnectionDone) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  Fd client = server.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
  client.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
}

TEST_P(Close, PeerResetIsConnectionLostNotDone) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  Fd client = server.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
  torsion_test::resetAndClose(client);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  ASSERT_TRUE(servers[0].lostWith<torsion::ConnectionLost>()) << servers[0].lostText();
  EXPECT_FALSE(servers[0].lostWith<torsion::ConnectionDone>());
  EXPECT_NE(servers[0].lostReason->getErrorMessage().find("reset"), std::string::npos)
      << "the reason should carry the system's text: " << servers[0].lostReason->getErrorMessage();
}

TEST_P(Close, ConnectingWhereNothingListensIsRefused) {
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  auto connector = reactor.connectTCP("127.0.0.1", torsion_test::unusedPort(), factory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished(); }, 5, "the refusal"));
  ASSERT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::ConnectionRefusedError>()) << factory->failText();
  EXPECT_EQ(clients.size(), 0u) << "no protocol is built for a refused connection";
  EXPECT_EQ(connector->state(), torsion::Connector::State::disconnected);
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);
}

TEST_P(Close, ConnectTimesOutWhenTheHandshakeNeverCompletes) {
  // A listener whose accept queue is full (backlog 0, never accepted): the kernel drops
  // further SYNs, so a connect hangs without leaving loopback.
  std::uint16_t blackHole = 0;
  Fd listener = torsion_test::listenLoopback(blackHole, 0);
  std::vector<Fd> fillers;
  for (int i = 0; i < 8; ++i) {
    Fd filler(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in address = torsion_test::loopback4(blackHole);
    ::connect(filler.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    pollfd entry{filler.get(), POLLOUT, 0};
    bool completed = ::poll(&entry, 1, 200) == 1;
    fillers.push_back(std::move(filler));
    if (!completed) break;  // the queue is full: this SYN went unanswered
  }
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  const double start = torsion_test::now();
  auto connector = reactor.connectTCP("127.0.0.1", blackHole, factory, 0.5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished(); }, 5, "the connect timeout"));
  const double elapsed = torsion_test::now() - start;
  ASSERT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::TimeoutError>()) << factory->failText();
  EXPECT_GE(elapsed, 0.45);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_EQ(connector->state(), torsion::Connector::State::disconnected);
  EXPECT_EQ(clients.size(), 0u);
}

TEST_P(Close, LoseConnectionSendsEverythingQueuedFirst) {
  const std::string payload = torsion_test::patternBytes(4 << 20, 99);
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
        p.onMade = [&](ScriptedProtocol& self) {
          self.transport().write(payload);
          EXPECT_GT(self.transport().writeBufferSize(), 0u) << "4 MiB should not fit at once";
          self.transport().loseConnection();
        };
      }));
  Fd client = server.connectRaw();
  std::string received;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), received)); }, 10,
      "the end of the stream"));
  EXPECT_EQ(received.size(), payload.size());
  EXPECT_TRUE(received == payload);
  EXPECT_EQ(torsion_test::endOfStream(client.get()), 0) << "a clean FIN, not a reset";
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>());
}

TEST_P(Close, WritesAfterLoseConnectionAreDropped) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
        p.onMade = [&](ScriptedProtocol& self) {
          self.transport().write("kept");
          self.transport().loseConnection();
          self.transport().write("dropped");
          torsion::Bytes more[] = {"also ", "dropped"};
          self.transport().writeSequence(more);
        };
        p.onLost = [](ScriptedProtocol& self, const torsion::Failure&) { self.transport().write("after the loss"); };
      }));
  Fd client = server.connectRaw();
  std::string received;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), received)); }, 5,
      "the end of the stream"));
  EXPECT_EQ(received, "kept");
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>());
}

TEST_P(Close, AbortConnectionClosesAtOnceDroppingTheQueue) {
  const std::string payload = torsion_test::patternBytes(8 << 20, 5);
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
        p.onMade = [&](ScriptedProtocol& self) {
          self.transport().write(payload);
          self.transport().abortConnection();
          self.transport().write("after abort");
        };
      }));
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionAborted>()) << servers[0].lostText();
  std::string received;
  bool open = true;
  const double deadline = torsion_test::now() + 5;
  while ((open = torsion_test::drain(client.get(), received)) && torsion_test::now() < deadline) {
    pollfd entry{client.get(), POLLIN, 0};
    ::poll(&entry, 1, 20);
  }
  EXPECT_FALSE(open) << "the peer must see the connection end";
  EXPECT_LT(received.size(), payload.size()) << "the queued bytes must have been dropped";
}

TEST_P(Close, DestroyingTheReactorClosesWhatIsOpen) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  std::shared_ptr<torsion::ListeningPort> port;
  {
    auto owner = torsion_test::makeReactor(backend());
    torsion::Reactor& reactor = *owner;
    port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 50, "127.0.0.1");
    reactor.connectTCP("127.0.0.1", port->getHost().port, torsion_test::recordingClientFactory(clients), 5);
    ASSERT_TRUE(runUntil(
        reactor, [&] { return servers.size() == 1 && clients.size() == 1 && clients[0].made(); }, 5, "the connection"));
  }
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionLost>());
  EXPECT_TRUE(clients[0].lostWith<torsion::ConnectionLost>());
  EXPECT_FALSE(port->listening()) << "a port outliving its reactor is closed";
}

// architecture.md: ~Reactor fails a connector that is still connecting, so its factory is
// told and stopped instead of being dropped with the attempt.
TEST_P(Close, DestroyingTheReactorFailsAConnectorStillConnecting) {
  Built<ScriptedProtocol> clients;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  {
    auto owner = torsion_test::makeReactor(backend());
    // The attempt starts by callSoon: with no pass run, it is still connecting.
    torsion::Reactor& reactor = *owner;
    auto connector = reactor.connectTCP("127.0.0.1", 9, factory, 5);
    ASSERT_EQ(connector->state(), torsion::Connector::State::connecting);
  }
  EXPECT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::ConnectingCancelledError>()) << factory->failText();
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);
  EXPECT_EQ(clients.size(), 0u);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Close);
