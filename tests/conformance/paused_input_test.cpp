// Conformance: input that reaches a transport around a pause. On a readiness backend it
// waits in the kernel; on a completion backend (io_uring) the kernel may already have
// received it when the pause is asked for, and the transport keeps it. Either way the
// protocol sees nothing while paused, then every byte in order, then the end.
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <memory>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

class PausedInput : public BackendTest {};

TEST_P(PausedInput, InputAndEndThatArriveWhilePausedComeAfterResumeInOrder) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes) { self.transport().pauseProducing(); };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  torsion_test::sendAll(client.get(), "first");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].dataCalls == 1; }, 5, "the first read"));
  // Sent before the reactor runs again: an io_uring receive still armed takes these in
  // (the pause has not reached the kernel yet), so the transport must keep them.
  const std::string rest = torsion_test::patternBytes(48 * 1024, 5);
  torsion_test::sendAll(client.get(), rest);
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  torsion_test::runFor(reactor, 0.1);
  EXPECT_EQ(servers[0].dataCalls, 1);
  EXPECT_EQ(servers[0].received, "first");
  EXPECT_FALSE(servers[0].lost()) << "the end came before the input paused in front of it";

  servers[0].onData = nullptr;
  servers[0].transport().resumeProducing();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "the end after the input"));
  EXPECT_TRUE(servers[0].received == "first" + rest) << servers[0].received.size() << " bytes received";
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>()) << servers[0].lostText();
  EXPECT_FALSE(servers[0].calledAfterLost);
}

// How a paused connection ends while input is still arriving: on io_uring its receive is
// being cancelled (or was just cancelled in this pass), and completions of it may still
// be in the kernel, in the batch being dispatched, or stashed.
enum class PausedEnd { loseInsideDataReceived, abortInsideDataReceived, abortLater, loseLater, reactorDestroyed };

const char* pausedEndName(PausedEnd end) {
  switch (end) {
    case PausedEnd::loseInsideDataReceived: return "loseConnection inside dataReceived";
    case PausedEnd::abortInsideDataReceived: return "abortConnection inside dataReceived";
    case PausedEnd::abortLater: return "abortConnection in a later pass";
    case PausedEnd::loseLater: return "loseConnection in a later pass";
    case PausedEnd::reactorDestroyed: return "the reactor destroyed";
  }
  return "?";
}

// Each way of ending, with input and the peer's close arriving behind the pause: the
// protocol hears nothing after its first dataReceived but one connectionLost, and (under
// ASan) nothing touches the connection or a receive buffer after it is gone.
TEST_P(PausedInput, AConnectionEndedWhilePausedWithInputInFlightEndsOnce) {
  for (PausedEnd end : {PausedEnd::loseInsideDataReceived, PausedEnd::abortInsideDataReceived, PausedEnd::abortLater,
                        PausedEnd::loseLater, PausedEnd::reactorDestroyed}) {
    SCOPED_TRACE(pausedEndName(end));
    Built<ScriptedProtocol> servers;
    Fd client;
    {
      auto owner = torsion_test::makeReactor(backend());
      torsion::Reactor& reactor = *owner;
      auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [end](ScriptedProtocol& p) {
        p.onData = [end](ScriptedProtocol& self, torsion::Bytes) {
          self.onData = nullptr;
          self.transport().pauseProducing();
          if (end == PausedEnd::loseInsideDataReceived) self.transport().loseConnection();
          if (end == PausedEnd::abortInsideDataReceived) self.transport().abortConnection();
        };
      });
      torsion_test::LoopbackServer server(reactor, factory);
      client = server.connectRaw();
      // Two sends: the second may reach the kernel's receive before or after the pause.
      torsion_test::sendAll(client.get(), "first");
      ASSERT_TRUE(runUntil(
          reactor, [&] { return servers.size() == 1 && servers[0].dataCalls == 1; }, 5, "the first read"));
      torsion_test::sendAll(client.get(), torsion_test::patternBytes(32 * 1024, 3));
      ::shutdown(client.get(), SHUT_WR);
      torsion_test::runFor(reactor, 0.02);  // the rest reaches the paused (or closing) connection
      if (end == PausedEnd::abortLater) servers[0].transport().abortConnection();
      if (end == PausedEnd::loseLater) servers[0].transport().loseConnection();
      if (end != PausedEnd::reactorDestroyed) {
        ASSERT_TRUE(runUntil(
            reactor, [&] { return servers[0].lost(); }, 5, "the end"));
        torsion_test::runFor(reactor, 0.01);  // anything wrongly left over runs now
      }
    }  // the reactor goes, with the connection still open if nothing ended it
    EXPECT_EQ(servers[0].dataCalls, 1);
    EXPECT_EQ(servers[0].lostCount, 1);
    EXPECT_FALSE(servers[0].calledAfterLost);
  }
}

// Sends `size` pattern bytes once connected; counts what comes back to the server.
class Sender : public torsion::Protocol {
 public:
  explicit Sender(const std::string* payload) : payload_(payload) {}
  void connectionMade() override { transport().write(*payload_); }

 private:
  const std::string* payload_;
};

// More input at once than a completion backend's receive buffers hold (io_uring: 4 MiB):
// receives that find none end (ENOBUFS) and must be armed again, losing nothing.
TEST_P(PausedInput, MoreInputAtOnceThanTheReceiveBuffersHoldArrivesWhole) {
  constexpr int kClients = 24;
  const std::string payload = torsion_test::patternBytes(256 * 1024, 9);
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = std::make_shared<torsion::ClientFactory>();
  factory->protocol = [&] { return std::make_shared<Sender>(&payload); };
  for (int i = 0; i < kClients; ++i) reactor.connectTCP("127.0.0.1", server.portNumber(), factory, 5);
  ASSERT_TRUE(runUntil(
      reactor,
      [&] {
        if (servers.size() < kClients) return false;
        for (const auto& s : servers.all) {
          if (s->received.size() < payload.size()) return false;
        }
        return true;
      },
      20, "every client's input"));
  for (const auto& s : servers.all) EXPECT_TRUE(s->received == payload) << s->received.size() << " bytes received";
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(PausedInput);
