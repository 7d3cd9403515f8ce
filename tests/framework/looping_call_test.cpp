#include <torsion/task.hpp>

#include <torsion/reactor.hpp>
#include <torsion/testing/clock.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reactor_test_support.hpp"

namespace torsion {
namespace {

using testing::Clock;

// Records the outcome of start()'s Deferred.
struct Outcome {
  bool stopped = false;
  std::string failure;
  void watch(Deferred<void> d) {
    d.addCallbacks([this] { stopped = true; }, [this](const Failure& f) { failure = f.getErrorMessage(); });
  }
};

TEST(LoopingCall, CallsAtOnceThenEveryInterval) {
  Clock clock;
  std::vector<double> times;
  LoopingCall loop(clock, [&] { times.push_back(clock.seconds()); });
  Outcome outcome;
  outcome.watch(loop.start(1.0));
  EXPECT_TRUE(loop.running());
  EXPECT_EQ(loop.interval(), 1.0);
  EXPECT_EQ(times, std::vector<double>{0});
  clock.pump({0.5, 0.5, 1.0, 1.0});
  EXPECT_EQ(times, (std::vector<double>{0, 1, 2, 3}));
  loop.stop();
  EXPECT_TRUE(outcome.stopped);
  EXPECT_FALSE(loop.running());
  clock.advance(10);
  EXPECT_EQ(times.size(), 4u);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, NowFalseWaitsOneInterval) {
  Clock clock;
  int calls = 0;
  LoopingCall loop(clock, [&] { ++calls; });
  loop.start(2.0, false);
  EXPECT_EQ(calls, 0);
  clock.advance(1.9);
  EXPECT_EQ(calls, 0);
  clock.advance(0.1);
  EXPECT_EQ(calls, 1);
}

TEST(LoopingCall, LateCallsStayOnTheGridAndSkippedIntervalsAreNotMadeUp) {
  Clock clock;
  std::vector<double> times;
  LoopingCall loop(clock, [&] { times.push_back(clock.seconds()); });
  loop.start(1.0);
  clock.advance(3.5);  // the call due at 1 runs at 3.5; 2 and 3 are skipped
  EXPECT_EQ(times, (std::vector<double>{0, 3.5}));
  ASSERT_TRUE(loop.call().active());
  EXPECT_EQ(loop.call().getTime(), 4.0);
  clock.advance(0.5);
  EXPECT_EQ(times, (std::vector<double>{0, 3.5, 4}));
}

TEST(LoopingCall, WithCountReportsTheIntervalsThatPassed) {
  Clock clock;
  std::vector<std::int64_t> counts;
  auto loop = LoopingCall::withCount(clock, [&](std::int64_t n) { counts.push_back(n); });
  loop.start(1.0);
  clock.advance(1);
  clock.advance(3.5);
  clock.advance(0.5);
  clock.advance(10);
  EXPECT_EQ(counts, (std::vector<std::int64_t>{1, 1, 3, 1, 10}));
}

TEST(LoopingCall, WithCountStartingLaterCountsFromTheStart) {
  Clock clock;
  std::vector<std::int64_t> counts;
  auto loop = LoopingCall::withCount(clock, [&](std::int64_t n) { counts.push_back(n); });
  loop.start(1.0, false);
  clock.advance(2.5);
  EXPECT_EQ(counts, std::vector<std::int64_t>{2});
}

TEST(LoopingCall, WithCountAndIntervalZeroCountsOne) {
  Clock clock;
  std::vector<std::int64_t> counts;
  auto loop = LoopingCall::withCount(clock, [&](std::int64_t n) {
    counts.push_back(n);
    if (counts.size() == 3) throw std::runtime_error("enough");
  });
  Outcome outcome;
  outcome.watch(loop.start(0));
  clock.advance(0);
  EXPECT_EQ(counts, (std::vector<std::int64_t>{1, 1, 1}));
  EXPECT_EQ(outcome.failure, "enough");
}

TEST(LoopingCall, AReturnedDeferredDelaysTheNextCall) {
  Clock clock;
  std::vector<double> times;
  std::optional<Deferred<void>> pending;
  LoopingCall loop(clock, [&] {
    times.push_back(clock.seconds());
    pending.emplace();
    return *pending;
  });
  loop.start(1.0);
  clock.advance(5);
  EXPECT_EQ(times, std::vector<double>{0}) << "no call while the Deferred is pending";
  EXPECT_FALSE(loop.call().active());
  pending->callback();
  clock.advance(0.5);
  EXPECT_EQ(times, (std::vector<double>{0}));
  clock.advance(0.5);
  EXPECT_EQ(times, (std::vector<double>{0, 6}));
}

TEST(LoopingCall, StopWhileTheDeferredIsPendingFiresAfterIt) {
  Clock clock;
  Deferred<int> pending;
  LoopingCall loop(clock, [&] { return pending; });
  Outcome outcome;
  outcome.watch(loop.start(1.0));
  loop.stop();
  EXPECT_FALSE(outcome.stopped);
  pending.callback(7);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, AThrowingFunctionStopsTheLoopWithItsFailure) {
  Clock clock;
  int calls = 0;
  LoopingCall loop(clock, [&] {
    if (++calls == 2) throw std::runtime_error("broken");
  });
  Outcome outcome;
  outcome.watch(loop.start(1.0));
  clock.advance(1);
  EXPECT_EQ(outcome.failure, "broken");
  EXPECT_FALSE(loop.running());
  clock.advance(5);
  EXPECT_EQ(calls, 2);
}

TEST(LoopingCall, AFailedDeferredStopsTheLoop) {
  Clock clock;
  LoopingCall loop(clock, [] { return fail<int>(TimeoutError("slow")); });
  Outcome outcome;
  outcome.watch(loop.start(1.0));
  EXPECT_EQ(outcome.failure, "slow");
  EXPECT_FALSE(loop.running());
}

TEST(LoopingCall, StopFromInsideTheFunction) {
  Clock clock;
  int calls = 0;
  std::optional<LoopingCall> loop;
  loop.emplace(clock, [&] {
    if (++calls == 3) loop->stop();
  });
  Outcome outcome;
  outcome.watch(loop->start(1.0));
  clock.pump({1, 1, 1, 1});
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(outcome.stopped);
}

TEST(LoopingCall, ResetRestartsTheGridFromNow) {
  Clock clock;
  std::vector<double> times;
  LoopingCall loop(clock, [&] { times.push_back(clock.seconds()); });
  loop.start(2.0);
  clock.advance(1.5);
  loop.reset();
  clock.advance(1.0);
  EXPECT_EQ(times, std::vector<double>{0});
  clock.advance(1.0);
  EXPECT_EQ(times, (std::vector<double>{0, 3.5}));
}

TEST(LoopingCall, MisuseIsALogicError) {
  Clock clock;
  LoopingCall loop(clock, [] {});
  EXPECT_THROW(loop.stop(), std::logic_error);
  EXPECT_THROW(loop.reset(), std::logic_error);
  EXPECT_THROW(loop.start(-1), std::invalid_argument);
  loop.start(1);
  EXPECT_THROW(loop.start(1), std::logic_error);
  loop.stop();
  loop.start(1);  // may start again after a stop
  EXPECT_TRUE(loop.running());
}

TEST(LoopingCall, DestroyingARunningLoopCancelsItsCall) {
  Clock clock;
  int calls = 0;
  {
    LoopingCall loop(clock, [&] { ++calls; });
    loop.start(1.0);
  }
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(5);
  EXPECT_EQ(calls, 1);
}

TEST(LoopingCall, MovingKeepsTheLoopRunning) {
  Clock clock;
  int calls = 0;
  LoopingCall first(clock, [&] { ++calls; });
  first.start(1.0);
  LoopingCall second = std::move(first);
  clock.advance(1);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(second.running());
}

TEST(LoopingCall, RunsOnTheReactor) {
  Reactor reactor;
  int calls = 0;
  LoopingCall loop(reactor, [&] {
    if (++calls == 5) loop.stop();
  });
  Outcome outcome;
  const double started = reactor.seconds();
  outcome.watch(loop.start(0.01));
  ASSERT_TRUE(torsion_test::runUntil(
      reactor, [&] { return outcome.stopped; }, 10, "five calls"));
  EXPECT_EQ(calls, 5);
  EXPECT_GE(reactor.seconds() - started, 0.04 - 1e-3);
}

}  // namespace
}  // namespace torsion
