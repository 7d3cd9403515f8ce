// The policies (TimeoutMixin, the connection limits, ThrottlingFactory, TimeoutFactory) on
// StringTransport and Clock; no sockets. The socket side is in the conformance suite
// (policies_socket_test.cpp); ProtocolWrapper and WrappingFactory, which they are built
// on, are tested in framework/protocol_wrapper_test.cpp.
#include <torsion/protocols/limit_connections.hpp>

#include <gtest/gtest.h>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/protocols/throttling_factory.hpp>
#include <torsion/protocols/timeout_factory.hpp>
#include <torsion/protocols/timeout_mixin.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>

#include <memory>
#include <string>
#include <vector>

#include "scripted_protocols.hpp"
#include "wired_connection.hpp"

namespace {

using torsion::Address;
using torsion::protocols::LimitConnectionsByPeer;
using torsion::protocols::LimitTotalConnectionsFactory;
using torsion::protocols::ThrottlingFactory;
using torsion::protocols::TimeoutFactory;
using torsion::protocols::TimeoutMixin;
using torsion::testing::Clock;
using torsion::testing::StringTransport;
using torsion_test::Built;
using torsion_test::RecordingProducer;
using torsion_test::ScriptedProtocol;
using torsion_test::wire;
using torsion_test::Wired;

const Address kPeerA{Address::Family::ipv4, "192.168.1.1", 1000};
const Address kPeerB{Address::Family::ipv4, "192.168.1.2", 1000};

// ---------------------------------------------------------------- TimeoutMixin

class Idle : public TimeoutMixin<ScriptedProtocol> {
 public:
  int timeouts = 0;
  bool abortOnTimeout = false;
  using TimeoutMixin::timeoutConnection;

 protected:
  void timeoutConnection() override {
    ++timeouts;
    if (abortOnTimeout) {
      transport().abortConnection();
    } else {
      TimeoutMixin::timeoutConnection();
    }
  }
};

struct Connected {
  Clock clock;
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  Connected() { transport->setClock(&clock); }
};

TEST(TimeoutMixin, DataResetsTheTimerAndSilenceCloses) {
  Connected c;
  auto idle = std::make_shared<Idle>();
  idle->onData = [](ScriptedProtocol& self, torsion::Bytes) { static_cast<Idle&>(self).resetTimeout(); };
  c.transport->makeConnection(*idle);
  EXPECT_EQ(idle->setTimeout(1.0), 0.0);
  c.clock.advance(0.9);
  c.transport->receive("x");
  c.clock.advance(0.9);
  EXPECT_FALSE(c.transport->disconnecting());
  EXPECT_EQ(idle->timeouts, 0);
  c.clock.advance(0.2);
  EXPECT_EQ(idle->timeouts, 1);
  EXPECT_TRUE(c.transport->disconnecting());  // loseConnection by default, as Twisted
  EXPECT_FALSE(c.transport->aborted());
}

TEST(TimeoutMixin, CancelAndChangeAndOverride) {
  Connected c;
  auto idle = std::make_shared<Idle>();
  idle->abortOnTimeout = true;
  c.transport->makeConnection(*idle);
  idle->setTimeout(1.0);
  EXPECT_EQ(idle->setTimeout(5.0), 1.0);  // replaces the pending timer
  c.clock.advance(2);
  EXPECT_EQ(idle->timeouts, 0);
  idle->cancelTimeout();
  EXPECT_EQ(idle->timeoutPeriod(), 0.0);
  c.clock.advance(10);
  EXPECT_EQ(idle->timeouts, 0);
  EXPECT_TRUE(c.clock.getDelayedCalls().empty());
  idle->setTimeout(1);
  c.clock.advance(1);
  EXPECT_EQ(idle->timeouts, 1);
  EXPECT_TRUE(c.transport->aborted());  // the override's choice
}

TEST(TimeoutMixin, TheTimerDiesWithTheConnection) {
  Connected c;
  auto idle = std::make_shared<Idle>();
  c.transport->makeConnection(*idle);
  idle->setTimeout(1);
  c.transport->reportConnectionLost(torsion::Failure(torsion::ConnectionLost()));
  c.clock.advance(5);
  EXPECT_EQ(idle->timeouts, 0);
  EXPECT_TRUE(c.clock.getDelayedCalls().empty());
  idle->resetTimeout();  // after the loss: nothing is scheduled
  EXPECT_TRUE(c.clock.getDelayedCalls().empty());
}

std::shared_ptr<torsion::Factory> scripted(Built<ScriptedProtocol>& built) {
  return torsion_test::recordingFactory<ScriptedProtocol>(built);
}

// ---------------------------------------------------------------- connection limits

TEST(LimitTotalConnectionsFactory, RefusesOrOverflowsAtTheLimitAndFreesPlaces) {
  Built<ScriptedProtocol> built;
  auto limited = std::make_shared<LimitTotalConnectionsFactory>(scripted(built), 2);
  Wired first = wire(*limited);
  Wired second = wire(*limited);
  EXPECT_EQ(limited->buildProtocol(kPeerA), nullptr);

  Built<ScriptedProtocol> overflow;
  limited->overflowProtocol = [&overflow] {
    overflow.all.push_back(std::make_shared<ScriptedProtocol>());
    overflow.all.back()->onMade = [](ScriptedProtocol& self) {
      self.transport().write("busy\r\n");
      self.transport().loseConnection();
    };
    return overflow.all.back();
  };
  Wired third = wire(*limited);
  ASSERT_TRUE(third.protocol);
  EXPECT_EQ(third.transport->value(), "busy\r\n");
  EXPECT_EQ(built.size(), 2u);
  EXPECT_EQ(limited->connectionCount(), 3u);  // the overflow counts, as in Twisted
  third.transport->reportConnectionLost();
  first.transport->reportConnectionLost();
  Wired fourth = wire(*limited);
  EXPECT_EQ(built.size(), 3u);
  EXPECT_EQ(overflow.size(), 1u);
}

TEST(LimitConnectionsByPeer, CountsPerHostNotPerPort) {
  Built<ScriptedProtocol> built;
  auto limited = std::make_shared<LimitConnectionsByPeer>(scripted(built), 2);
  Wired a1 = wire(*limited, kPeerA);
  Wired a2 = wire(*limited, Address{Address::Family::ipv4, "192.168.1.1", 2000});
  EXPECT_EQ(limited->connectionsFrom("192.168.1.1"), 2u);
  EXPECT_EQ(limited->buildProtocol(kPeerA), nullptr);
  Wired b1 = wire(*limited, kPeerB);
  ASSERT_TRUE(b1.protocol);
  a1.transport->reportConnectionLost();
  EXPECT_EQ(limited->connectionsFrom("192.168.1.1"), 1u);
  Wired a3 = wire(*limited, kPeerA);
  ASSERT_TRUE(a3.protocol);
  EXPECT_EQ(built.size(), 4u);
}

// ---------------------------------------------------------------- ThrottlingFactory

TEST(ThrottlingFactory, PausesReadingOverTheReadLimitForTheExcessThenResumes) {
  Clock clock;
  Built<ScriptedProtocol> built;
  auto throttled = std::make_shared<ThrottlingFactory>(clock, scripted(built), 10, 100, 0);
  Wired a = wire(*throttled, kPeerA);
  Wired b = wire(*throttled, kPeerB);
  a.transport->receive(std::string(200, 'x'));
  b.transport->receive(std::string(100, 'y'));
  EXPECT_EQ(throttled->totalRead(), 300u);
  clock.advance(1);  // 300 B in a second at 100 B/s: paused for 2 s
  EXPECT_TRUE(throttled->readsThrottled());
  EXPECT_EQ(a.transport->producerState(), StringTransport::ProducerState::paused);
  EXPECT_EQ(b.transport->producerState(), StringTransport::ProducerState::paused);
  Wired late = wire(*throttled, kPeerA);  // a connection made meanwhile waits too
  EXPECT_EQ(late.transport->producerState(), StringTransport::ProducerState::paused);
  clock.advance(1.9);
  EXPECT_TRUE(throttled->readsThrottled());
  clock.advance(0.2);
  EXPECT_FALSE(throttled->readsThrottled());
  EXPECT_EQ(a.transport->producerState(), StringTransport::ProducerState::producing);
  EXPECT_EQ(late.transport->producerState(), StringTransport::ProducerState::producing);
  a.transport->receive(std::string(50, 'x'));  // under the limit: no pause
  clock.advance(1);
  EXPECT_FALSE(throttled->readsThrottled());
}

TEST(ThrottlingFactory, PausesProducersOverTheWriteLimitAndCountsWrites) {
  Clock clock;
  Built<ScriptedProtocol> built;
  auto throttled = std::make_shared<ThrottlingFactory>(clock, scripted(built), 10, 0, 100);
  Wired a = wire(*throttled);
  auto producer = std::make_shared<RecordingProducer>();
  built.back().transport().registerProducer(producer, true);
  built.back().transport().write(std::string(400, 'z'));
  EXPECT_EQ(a.transport->value().size(), 400u);  // writes are counted, never held back
  EXPECT_EQ(throttled->totalWritten(), 400u);
  clock.advance(1);
  EXPECT_TRUE(throttled->writesThrottled());
  EXPECT_EQ(producer->pauses, 1);
  clock.advance(3);
  EXPECT_EQ(producer->resumes, 1);
  EXPECT_FALSE(throttled->writesThrottled());
}

TEST(ThrottlingFactory, RefusesAboveTheConnectionLimitAndStopsItsTimersWhenIdle) {
  Clock clock;
  Built<ScriptedProtocol> built;
  auto throttled = std::make_shared<ThrottlingFactory>(clock, scripted(built), 1, 100, 100);
  Wired a = wire(*throttled);
  EXPECT_EQ(throttled->buildProtocol(kPeerB), nullptr);
  EXPECT_EQ(clock.getDelayedCalls().size(), 2u);
  a.transport->reportConnectionLost();
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  Wired b = wire(*throttled, kPeerB);
  EXPECT_TRUE(b.protocol);
}

// ---------------------------------------------------------------- TimeoutFactory

TEST(TimeoutFactory, ReadsAndWritesKeepAConnectionAndSilenceClosesIt) {
  Clock clock;
  Built<ScriptedProtocol> built;
  auto timed = std::make_shared<TimeoutFactory>(scripted(built), 5);
  Wired w = wire(*timed, kPeerA, &clock);
  clock.advance(4);
  w.transport->receive("data");
  clock.advance(4);
  built.back().transport().write("reply");
  clock.advance(4);
  EXPECT_FALSE(w.transport->disconnecting());
  clock.advance(1.5);
  EXPECT_TRUE(w.transport->disconnecting());
  w.transport->reportConnectionLost();
  EXPECT_EQ(built.back().lostCount, 1);
  EXPECT_THROW(TimeoutFactory(scripted(built), 0), std::invalid_argument);
}

}  // namespace
