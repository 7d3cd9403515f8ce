// Conformance: the policies over real sockets, on every backend. Slowloris clients
// trickling one byte at a time are all cut by a LineReceiver's TimeoutMixin (reset only
// on whole lines) while a well-behaved client keeps its latency; wrapping factories
// compose and refuse over real connections.
#include <sys/socket.h>

#include <torsion/protocols/limit_connections.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/throttling_factory.hpp>
#include <torsion/protocols/timeout_mixin.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

class Policies : public BackendTest {};

// Echoes lines; only a complete line counts as progress, so trickled bytes do not.
class GuardedEcho : public torsion::protocols::TimeoutMixin<torsion::protocols::LineReceiver> {
 public:
  GuardedEcho(double timeout, int& timeouts) : timeout_(timeout), timeouts_(timeouts) {}
  void connectionMade() override { setTimeout(timeout_); }
  void lineReceived(torsion::Bytes line) override {
    resetTimeout();
    sendLine(line);
  }

 protected:
  void timeoutConnection() override {
    ++timeouts_;
    TimeoutMixin::timeoutConnection();
  }

 private:
  double timeout_;
  int& timeouts_;
};

TEST_P(Policies, SlowlorisClientsAreAllCutWhileAWellBehavedClientKeepsItsLatency) {
  constexpr int kSlowClients = 200;
  constexpr double kTimeout = 0.3;
  int timeouts = 0;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port =
      reactor.listenTCP(0, torsion::Factory::forProtocol<GuardedEcho>(kTimeout, std::ref(timeouts)), 1024, "127.0.0.1");
  const auto number = port->getHost().port;
  Fd good = torsion_test::connectLoopback(number);
  std::vector<Fd> slow;
  for (int i = 0; i < kSlowClients; ++i) slow.push_back(torsion_test::connectLoopback(number));

  std::vector<double> latencies;
  std::vector<bool> cut(kSlowClients, false);
  int cutCount = 0;
  double nextTrickle = now();
  double sentAt = 0;
  std::string echoed;
  bool goodClosed = false;
  const double deadline = now() + 10;
  while (now() < deadline && (cutCount < kSlowClients || latencies.size() < 20)) {
    reactor.iterate(0.002);
    if (now() >= nextTrickle) {  // one byte every 100 ms from every slow client still open
      nextTrickle += 0.1;
      for (int i = 0; i < kSlowClients; ++i) {
        if (cut[i]) continue;
        std::string ignored;
        if (!torsion_test::drain(slow[i].get(), ignored)) {
          cut[i] = true;
          ++cutCount;
          continue;
        }
        ::send(slow[i].get(), "x", 1, MSG_NOSIGNAL);
      }
    }
    if (sentAt == 0) {
      torsion_test::sendAll(good.get(), "ping\r\n");
      sentAt = now();
    } else {
      goodClosed = !torsion_test::drain(good.get(), echoed);
      if (echoed == "ping\r\n") {
        latencies.push_back(now() - sentAt);
        echoed.clear();
        sentAt = 0;
      }
      ASSERT_FALSE(goodClosed) << "the well-behaved client was cut";
    }
  }
  EXPECT_EQ(cutCount, kSlowClients) << "slow clients still connected after 10 s";
  EXPECT_EQ(timeouts, kSlowClients);
  ASSERT_GE(latencies.size(), 20u);
  std::sort(latencies.begin(), latencies.end());
  const double p50 = latencies[latencies.size() / 2];
  const double worst = latencies.back();
  std::printf("[ slowloris ] %s: %d slow clients cut; well-behaved client: %zu round trips, p50 %.2f ms, max %.2f ms\n",
              backend().c_str(), cutCount, latencies.size(), p50 * 1e3, worst * 1e3);
  RecordProperty("well_behaved_p50_ms", std::to_string(p50 * 1e3));
  RecordProperty("well_behaved_max_ms", std::to_string(worst * 1e3));
  EXPECT_LT(worst, 1.0) << "a generous bound: the well-behaved client waited " << worst << " s";
}

TEST_P(Policies, WrappingFactoriesComposeOverSocketsAndRefuseAPeersExtraConnection) {
  Built<ScriptedProtocol> built;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto echo = torsion_test::recordingFactory<ScriptedProtocol>(built, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
  });
  auto byPeer = std::make_shared<torsion::protocols::LimitConnectionsByPeer>(echo, 2);
  auto throttled = std::make_shared<torsion::protocols::ThrottlingFactory>(reactor, byPeer, 10, 1u << 20, 1u << 20);
  torsion_test::LoopbackServer server(reactor, throttled);
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(server.connectRaw());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return built.size() == 2 && byPeer->connectionsFrom("127.0.0.1") == 2; }, 5, "two accepts"));
  // The third was refused: closed at once.
  ASSERT_TRUE(runUntil(
      reactor, [&] { return torsion_test::endOfStream(clients[2].get()) >= 0; }, 5, "the refusal of the third"));
  for (int i = 0; i < 2; ++i) {
    const std::string message = "through two wrappers " + std::to_string(i);
    torsion_test::sendAll(clients[i].get(), message);
    std::string echoed;
    ASSERT_TRUE(runUntil(
        reactor, [&] { return torsion_test::drain(clients[i].get(), echoed) && echoed == message; }, 5, "the echo"));
  }
  EXPECT_GT(throttled->totalRead(), 0u);
  EXPECT_EQ(throttled->totalRead(), throttled->totalWritten());
  clients[0].reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return built[0].lost(); }, 5, "the close"));
  EXPECT_EQ(built[0].lostCount, 1);
  EXPECT_EQ(byPeer->connectionsFrom("127.0.0.1"), 1u);
  EXPECT_EQ(throttled->connectionCount(), 1u);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Policies);
