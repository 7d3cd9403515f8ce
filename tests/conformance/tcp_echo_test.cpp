// Conformance: bytes go through a TCP connection exactly, and many connections are served
// at once, on every backend.
#include <sys/select.h>

#include <torsion/reactor.hpp>

#include <algorithm>
#include <random>
#include <span>
#include <string>

#include "conformance_names.hpp"

namespace {

class TcpEcho : public BackendTest {};

std::shared_ptr<torsion::Factory> echoFactory(Built<ScriptedProtocol>& servers) {
  return torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
  });
}

// The offset of the first difference, for a short failure message instead of 1 MiB.
std::size_t firstDifference(const std::string& a, const std::string& b) {
  auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<std::size_t>(mismatch.first - a.begin());
}

TEST_P(TcpEcho, OneMebibyteOfRandomBytesInRandomChunksComesBackByteExact) {
  const std::string payload = torsion_test::patternBytes(1 << 20, 0xC0FFEE);
  std::mt19937 random(20240601);
  std::size_t written = 0;
  // Writes random-sized pieces (1 B .. 64 KiB), alternating write and writeSequence,
  // until a good amount is queued; called again as echoes arrive, so the write queue is
  // both used and drained while the transfer runs.
  auto pump = [&](ScriptedProtocol& client) {
    auto& transport = client.transport();
    while (written < payload.size() && transport.writeBufferSize() < 256 * 1024) {
      std::size_t size = std::min<std::size_t>(payload.size() - written, 1 + random() % 65536);
      torsion::Bytes piece(payload.data() + written, size);
      if (random() % 2 == 0) {
        transport.write(piece);
      } else {
        std::size_t half = size / 2;
        torsion::Bytes parts[] = {piece.substr(0, half), piece.substr(half)};
        transport.writeSequence(parts);
      }
      written += size;
    }
  };
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, echoFactory(servers));
  auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
    p.onMade = pump;
    p.onData = [&](ScriptedProtocol& self, torsion::Bytes) { pump(self); };
  });
  server.connect(clientFactory);

  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].received.size() >= payload.size(); }, 20,
      "1 MiB to come back"));
  const std::string& echoed = clients[0].received;
  ASSERT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload) << "first differing byte at offset " << firstDifference(echoed, payload);

  clients[0].transport().loseConnection();
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return clients[0].lost() && servers[0].lost(); }, 5, "both ends to see the close"));
  EXPECT_TRUE(clients[0].lostWith<torsion::ConnectionDone>()) << clients[0].lostText();
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
}

TEST_P(TcpEcho, ManyConcurrentClientsEchoAtOnce) {
  // Two descriptors per client live in this process; select must stay below FD_SETSIZE.
  const int clientCount = isSelect() ? std::min(500, (FD_SETSIZE - 64) / 2) : 500;
  int echoedClients = 0;
  int connectedServers = 0;
  int mostConnectedAtOnce = 0;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto serverFactory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol&) { mostConnectedAtOnce = std::max(mostConnectedAtOnce, ++connectedServers); };
    p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
    p.onLost = [&](ScriptedProtocol&, const torsion::Failure&) { --connectedServers; };
  });
  auto port = reactor.listenTCP(0, serverFactory, 1024, "127.0.0.1");
  std::vector<std::string> messages;
  for (int i = 0; i < clientCount; ++i) {
    messages.push_back("client " + std::to_string(i) + ": " +
                       torsion_test::patternBytes(200, 7u + static_cast<unsigned>(i)));
  }
  auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
    const std::string& message = messages[clients.size()];
    p.onMade = [&message](ScriptedProtocol& self) { self.transport().write(message); };
    p.onData = [&message, &echoedClients](ScriptedProtocol& self, torsion::Bytes) {
      if (self.received.size() == message.size()) ++echoedClients;
    };
  });
  for (int i = 0; i < clientCount; ++i) reactor.connectTCP("127.0.0.1", port->getHost().port, clientFactory, 10);

  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return echoedClients == clientCount; }, 30, "every client's echo"));
  // No client closed before all were echoed, so they were all connected at once.
  EXPECT_EQ(mostConnectedAtOnce, clientCount);
  EXPECT_EQ(clientFactory->failedCount, 0) << (clientFactory->failReason ? clientFactory->failText() : "");
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_EQ(clients[i].received, messages[i]) << "client " << i;
  }
  for (auto& client : clients.all) client->transport().loseConnection();
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return connectedServers == 0; }, 10, "every server side to close"));
  for (auto& server : servers.all) EXPECT_TRUE(server->lostWith<torsion::ConnectionDone>());
}

TEST_P(TcpEcho, AReactorDrivenOnlyByPollPassesStillReceives) {
  // iterate(0) never waits: a loop that only polls (a load generator, a game loop) must
  // still be given what the kernel received, by every backend, pass after pass.
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, echoFactory(servers));
  Fd client = server.connectRaw();
  std::string expected;
  for (int exchange = 0; exchange < 20; ++exchange) {
    const std::string message = "poll pass " + std::to_string(exchange);
    torsion_test::sendAll(client.get(), message);
    expected += message;
    const double deadline = now() + 5;
    while ((servers.size() == 0 || servers[0].received.size() < expected.size()) && now() < deadline)
      reactor.iterate(0);
    ASSERT_EQ(servers.size(), 1U);
    ASSERT_EQ(servers[0].received, expected) << "exchange " << exchange;
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TcpEcho);
