// Conformance: half-close in both directions (HalfCloseableProtocol, loseWriteConnection)
// on every backend.
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

class HalfClose : public BackendTest {};

TEST_P(HalfClose, PeerShutdownIsReadConnectionLostAndWritingGoesOn) {
  Built<ScriptedHalfCloseProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedHalfCloseProtocol>(servers, [](ScriptedHalfCloseProtocol& p) {
    p.onReadLost = [](ScriptedHalfCloseProtocol& self) {
      // The whole question has arrived; answer it on the still-open direction.
      self.transport().write("answer to " + self.received);
      self.transport().loseConnection();
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  torsion_test::sendAll(client.get(), "question");
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  std::string received;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), received)); }, 5,
      "the answer and the close"));
  EXPECT_EQ(received, "answer to question");
  EXPECT_EQ(torsion_test::endOfStream(client.get()), 0);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_EQ(servers[0].readLostCount, 1);
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
}

TEST_P(HalfClose, LoseWriteConnectionSendsFinWhileReadingGoesOn) {
  Built<ScriptedHalfCloseProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedHalfCloseProtocol>(servers, [](ScriptedHalfCloseProtocol& p) {
    p.onMade = [](ScriptedHalfCloseProtocol& self) {
      self.transport().write("all I have to say");
      self.transport().loseWriteConnection();
      self.transport().write("dropped: written after loseWriteConnection");
    };
  });
  torsion_test::LoopbackServer loopback(reactor, factory);
  Fd client = loopback.connectRaw();
  std::string received;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), received)); }, 5, "the server's FIN"));
  EXPECT_EQ(received, "all I have to say");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].writeLostCount == 1; }, 5, "writeConnectionLost"));
  EXPECT_FALSE(servers[0].lost()) << "only one direction is closed";

  torsion_test::sendAll(client.get(), "still listening?");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].received == "still listening?"; }, 5, "the late data"));
  client.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
  EXPECT_EQ(servers[0].writeLostCount, 1);
}

TEST_P(HalfClose, WithoutHalfCloseSupportAPeerShutdownClosesTheConnection) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  Fd client = server.connectRaw();
  torsion_test::sendAll(client.get(), "last words");
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_EQ(servers[0].received, "last words");
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
}

TEST_P(HalfClose, BothDirectionsBetweenTwoTorsionEnds) {
  // The client half-closes after its request; the server answers, then half-closes too;
  // each end sees readConnectionLost and writeConnectionLost, then one clean close.
  Built<ScriptedHalfCloseProtocol> servers;
  Built<ScriptedHalfCloseProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto serverFactory =
      torsion_test::recordingFactory<ScriptedHalfCloseProtocol>(servers, [](ScriptedHalfCloseProtocol& p) {
        p.onReadLost = [](ScriptedHalfCloseProtocol& self) {
          self.transport().write("reply to " + self.received);
          self.transport().loseWriteConnection();
        };
      });
  torsion_test::LoopbackServer loopback(reactor, serverFactory);
  auto clientFactory =
      torsion_test::recordingClientFactory<ScriptedHalfCloseProtocol>(clients, [](ScriptedHalfCloseProtocol& p) {
        p.onMade = [](ScriptedHalfCloseProtocol& self) {
          self.transport().write("request");
          self.transport().loseWriteConnection();
        };
      });
  loopback.connect(clientFactory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].lost() && servers[0].lost(); }, 5, "both ends to close"));
  EXPECT_EQ(clients[0].received, "reply to request");
  for (auto* end : {&clients[0], &servers[0]}) {
    EXPECT_EQ(end->readLostCount, 1);
    EXPECT_EQ(end->writeLostCount, 1);
    EXPECT_TRUE(end->lostWith<torsion::ConnectionDone>()) << end->lostText();
  }
  EXPECT_EQ(clientFactory->lostCount, 1);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HalfClose);
