// Conformance: timers (ordering, cancel, reset, delay, the DelayedCall states) and their
// fairness towards I/O, on every backend.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "conformance_names.hpp"

namespace {

class Timers : public BackendTest {};

TEST_P(Timers, RunInTimeOrderAndEqualTimesInSchedulingOrder) {
  std::vector<std::string> order;
  std::vector<std::pair<double, double>> ranAt;  // (scheduled time, actual time)
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto record = [&](std::string name, torsion::DelayedCall* call) {
    return [&, name, call] {
      order.push_back(name);
      ranAt.emplace_back(call->getTime(), reactor.seconds());
    };
  };
  torsion::DelayedCall calls[5];
  calls[0] = reactor.callLater(0.06, record("c", &calls[0]));
  calls[1] = reactor.callLater(0.02, record("a1", &calls[1]));
  calls[2] = reactor.callLater(0.04, record("b", &calls[2]));
  calls[3] = reactor.callLater(0.02, record("a2", &calls[3]));
  calls[4] = reactor.callLater(0, record("now", &calls[4]));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return order.size() == 5; }, 5, "all five calls"));
  EXPECT_EQ(order, (std::vector<std::string>{"now", "a1", "a2", "b", "c"}));
  for (auto [scheduled, actual] : ranAt) EXPECT_GE(actual + 1e-6, scheduled) << "a call ran before its time";
  for (auto& call : calls) {
    EXPECT_TRUE(call.called());
    EXPECT_FALSE(call.active());
  }
}

TEST_P(Timers, ACancelledCallNeverRuns) {
  bool ran = false;
  bool other = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto call = reactor.callLater(0.01, [&] { ran = true; });
  reactor.callLater(0.05, [&] { other = true; });
  EXPECT_TRUE(call.active());
  call.cancel();
  EXPECT_FALSE(call.active());
  EXPECT_TRUE(call.cancelled());
  EXPECT_FALSE(call.called());
  EXPECT_THROW(call.cancel(), torsion::AlreadyCancelled);
  EXPECT_THROW(call.reset(1), torsion::AlreadyCancelled);
  EXPECT_THROW(call.delay(1), torsion::AlreadyCancelled);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return other; }, 5, "the later call"));
  EXPECT_FALSE(ran);
}

TEST_P(Timers, ACalledCallCannotBeCancelledOrMoved) {
  int runs = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto call = reactor.callLater(0, [&] { ++runs; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return runs == 1; }, 5, "the call"));
  EXPECT_TRUE(call.called());
  EXPECT_FALSE(call.active());
  EXPECT_FALSE(call.cancelled());
  EXPECT_THROW(call.cancel(), torsion::AlreadyCalled);
  EXPECT_THROW(call.reset(0), torsion::AlreadyCalled);
  EXPECT_THROW(call.delay(0), torsion::AlreadyCalled);
  torsion_test::runFor(reactor, 0.02);
  EXPECT_EQ(runs, 1);
}

TEST_P(Timers, ResetAndDelayMoveTheCall) {
  bool early = false;
  bool late = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto soon = reactor.callLater(30, [&] { early = true; });
  auto postponed = reactor.callLater(0.01, [&] { late = true; });

  const double before = reactor.seconds();
  soon.reset(0.03);
  EXPECT_NEAR(soon.getTime(), before + 0.03, 0.01);
  const double originally = postponed.getTime();
  postponed.delay(30);
  EXPECT_DOUBLE_EQ(postponed.getTime(), originally + 30);

  ASSERT_TRUE(runUntil(
      reactor, [&] { return early; }, 5, "the call brought forward by reset"));
  EXPECT_FALSE(late) << "delay(30) must have postponed the call";
  EXPECT_TRUE(postponed.active());
  postponed.delay(-30);  // a negative delay brings it back
  ASSERT_TRUE(runUntil(
      reactor, [&] { return late; }, 5, "the call brought back by a negative delay"));
}

TEST_P(Timers, GetDelayedCallsListsWhatIsPendingSoonestFirst) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto third = reactor.callLater(30, [] {});
  auto first = reactor.callLater(10, [] {});
  auto gone = reactor.callLater(5, [] {});
  auto second = reactor.callLater(20, [] {});
  gone.cancel();
  auto pending = reactor.getDelayedCalls();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].getTime(), first.getTime());
  EXPECT_EQ(pending[1].getTime(), second.getTime());
  EXPECT_EQ(pending[2].getTime(), third.getTime());
  pending[0].cancel();  // handles from getDelayedCalls are the same calls
  EXPECT_FALSE(first.active());
  EXPECT_EQ(reactor.getDelayedCalls().size(), 2u);
}

TEST_P(Timers, BadDelaysAndEmptyHandlesAreRejected) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  EXPECT_THROW(reactor.callLater(-1, [] {}), std::invalid_argument);
  EXPECT_THROW(reactor.callLater(std::numeric_limits<double>::quiet_NaN(), [] {}), std::invalid_argument);
  torsion::DelayedCall empty;
  EXPECT_FALSE(empty.active());
  EXPECT_FALSE(empty.called());
  EXPECT_FALSE(empty.cancelled());
  EXPECT_THROW(empty.getTime(), std::logic_error);
  EXPECT_THROW(empty.cancel(), std::logic_error);
}

TEST_P(Timers, AZeroDelayCallFromATimerWaitsForTheNextPass) {
  std::vector<int> order;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callLater(0, [&] {
    order.push_back(1);
    reactor.callLater(0, [&] { order.push_back(2); });
  });
  reactor.iterate(0);
  EXPECT_EQ(order, std::vector<int>{1}) << "a call scheduled by a running call must not run in the same pass";
  reactor.iterate(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

// Twisted's runUntilCurrent: one pass runs every call that is due, in time order, however
// far apart their times are (the timer wheel sorts each due slot into its heap first).
TEST_P(Timers, OnePassRunsEveryDueCallInTimeOrder) {
  std::vector<int> order;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callLater(0.070, [&] { order.push_back(4); });
  reactor.callLater(0.003, [&] { order.push_back(3); });
  auto later = reactor.callLater(60, [&] { order.push_back(5); });
  reactor.callLater(0.001, [&] { order.push_back(1); });
  reactor.callLater(0.0025, [&] { order.push_back(2); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  reactor.iterate(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(later.active());
}

TEST_P(Timers, EndlessZeroDelayCallsFromIoCallbacksDoNotStarveIo) {
  // Every dataReceived on the server starts a chain of callLater(0) that never ends; a
  // 1 MiB echo must still finish, and the chains must keep running meanwhile.
  const std::string payload = torsion_test::patternBytes(1 << 20, 3);
  long chainRuns = 0;
  bool stopChains = false;
  torsion::Reactor* reactorPointer = nullptr;
  std::function<void()> link = [&] {
    ++chainRuns;
    if (!stopChains) reactorPointer->callLater(0, link);
  };
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactorPointer = &reactor;
  auto serverFactory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onData = [&](ScriptedProtocol& self, torsion::Bytes data) {
      reactor.callLater(0, link);
      self.transport().write(data);
    };
  });
  torsion_test::LoopbackServer loopback(reactor, serverFactory);
  auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol& self) { self.transport().write(payload); };
  });
  loopback.connect(clientFactory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].received.size() == payload.size(); }, 20,
      "the echo, despite the zero-delay chains"));
  EXPECT_TRUE(clients[0].received == payload);
  EXPECT_GT(chainRuns, 0);
  stopChains = true;
}

TEST_P(Timers, RunSleepsUntilTheNextTimer) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  const double start = reactor.seconds();
  double firedAt = 0;
  reactor.callLater(0.1, [&] {
    firedAt = reactor.seconds();
    reactor.stop();
  });
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  EXPECT_GE(firedAt - start, 0.1 - 1e-6);
  EXPECT_LT(firedAt - start, 1.0);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Timers);
