#include <torsion/testing/clock.hpp>

#include <torsion/errors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace torsion::testing {
namespace {

TEST(Clock, StartsAtZeroAndMovesOnlyWhenAdvanced) {
  Clock clock;
  EXPECT_EQ(clock.seconds(), 0.0);
  clock.advance(1.5);
  EXPECT_EQ(clock.seconds(), 1.5);
  clock.pump({1.0, 0.5});
  EXPECT_EQ(clock.seconds(), 3.0);
}

TEST(Clock, CallsRunWhenDueInTimeThenSchedulingOrder) {
  Clock clock;
  std::string order;
  clock.callLater(2, [&] { order += 'c'; });
  clock.callLater(1, [&] { order += 'a'; });
  clock.callLater(1, [&] { order += 'b'; });
  clock.advance(0.999);
  EXPECT_EQ(order, "");
  clock.advance(0.001);
  EXPECT_EQ(order, "ab");
  clock.advance(5);
  EXPECT_EQ(order, "abc");
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(Clock, CallsScheduledByACallRunInTheSameAdvanceIfDue) {
  Clock clock;
  std::vector<double> times;
  clock.callLater(1, [&] {
    times.push_back(clock.seconds());
    clock.callLater(0, [&] { times.push_back(clock.seconds()); });
    clock.callLater(5, [&] { times.push_back(clock.seconds()); });
  });
  clock.advance(2);
  EXPECT_EQ(times, (std::vector<double>{2, 2}));
  ASSERT_EQ(clock.getDelayedCalls().size(), 1u);
  EXPECT_EQ(clock.getDelayedCalls()[0].getTime(), 7);
}

TEST(Clock, DelayedCallsCanBeCancelledResetAndDelayed) {
  Clock clock;
  int ran = 0;
  auto a = clock.callLater(1, [&] { ran += 1; });
  auto b = clock.callLater(1, [&] { ran += 10; });
  auto c = clock.callLater(1, [&] { ran += 100; });
  a.cancel();
  b.reset(3);
  c.delay(1);
  EXPECT_TRUE(a.cancelled());
  EXPECT_THROW(a.cancel(), AlreadyCancelled);
  clock.advance(2);
  EXPECT_EQ(ran, 100);
  EXPECT_TRUE(c.called());
  EXPECT_THROW(c.cancel(), AlreadyCalled);
  clock.advance(1);
  EXPECT_EQ(ran, 110);
}

TEST(Clock, GetDelayedCallsIsSoonestFirst) {
  Clock clock;
  clock.callLater(3, [] {});
  clock.callLater(1, [] {});
  clock.callLater(2, [] {});
  const auto calls = clock.getDelayedCalls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].getTime(), 1);
  EXPECT_EQ(calls[1].getTime(), 2);
  EXPECT_EQ(calls[2].getTime(), 3);
  EXPECT_TRUE(calls[0].active());
}

TEST(Clock, AnExceptionPropagatesAndTheOtherCallsStayScheduled) {
  Clock clock;
  bool later = false;
  clock.callLater(1, [] { throw std::runtime_error("boom"); });
  clock.callLater(1, [&] { later = true; });
  EXPECT_THROW(clock.advance(1), std::runtime_error);
  EXPECT_FALSE(later);
  clock.advance(0);
  EXPECT_TRUE(later);
}

TEST(Clock, TimeNeverGoesBack) {
  Clock clock;
  EXPECT_THROW(clock.advance(-1), std::invalid_argument);
  EXPECT_THROW(clock.callLater(-1, [] {}), std::invalid_argument);
}

TEST(Clock, HandlesOutliveTheClockInactive) {
  DelayedCall call;
  {
    Clock clock;
    call = clock.callLater(1, [] {});
  }
  EXPECT_FALSE(call.active());
}

TEST(Clock, HandlesOutliveTheClockInactive_EvenWhenTheLastOneGoesAfterIt) {
  // The clock's entries live in a pool that must outlive the clock while handles remain.
  std::vector<DelayedCall> calls;
  {
    Clock clock;
    for (int i = 0; i < 1000; i++) calls.push_back(clock.callLater(i, [] {}));
    clock.advance(10.5);  // eleven ran; their handles remain too
  }
  EXPECT_TRUE(calls[3].called());
  EXPECT_TRUE(calls[500].cancelled());
  calls.clear();
}

TEST(Clock, CapturesGoWhenTheCallRunsOrIsCancelledNotWithTheLastHandle) {
  Clock clock;
  auto ran = std::make_shared<int>(0);
  auto cancelledCapture = std::make_shared<int>(0);
  DelayedCall toRun = clock.callLater(1, [ran] { ++*ran; });
  DelayedCall toCancel = clock.callLater(1, [cancelledCapture] {});
  toCancel.cancel();
  EXPECT_EQ(cancelledCapture.use_count(), 1);
  clock.advance(1);
  EXPECT_EQ(*ran, 1);
  EXPECT_EQ(ran.use_count(), 1);
  EXPECT_TRUE(toRun.called());
}

TEST(Clock, AHandleKeepsItsStateWhileOtherCallsReuseTheirEntries) {
  Clock clock;
  DelayedCall kept = clock.callLater(1, [] {});
  kept.cancel();
  for (int round = 0; round < 100; round++) {
    DelayedCall other = clock.callLater(1, [] {});  // reuses the entries given back
    other.cancel();
  }
  EXPECT_TRUE(kept.cancelled());
  EXPECT_FALSE(kept.active());
  EXPECT_THROW(kept.cancel(), AlreadyCancelled);
}

// Thousands of calls scheduled, cancelled, reset and delayed at random run exactly in
// the order of (time, last scheduling) that a sorted model gives.
TEST(Clock, RandomSchedulesCancelsAndResetsRunInTimeThenSchedulingOrder) {
  Clock clock;
  std::mt19937 random(20261201);
  struct Model {
    double time;
    std::uint64_t sequence;
    int id;
    bool pending;
  };
  std::vector<Model> model;
  std::vector<DelayedCall> calls;
  std::vector<int> fired;
  std::uint64_t sequence = 0;
  for (int id = 0; id < 5000; id++) {
    // Whole milliseconds over 2 s, so many calls share a time and the tie rule matters.
    double delay = static_cast<double>(random() % 2000) / 1000.0;
    calls.push_back(clock.callLater(delay, [&fired, id] { fired.push_back(id); }));
    model.push_back(Model{delay, sequence++, id, true});
  }
  for (int step = 0; step < 5000; step++) {
    auto id = static_cast<std::size_t>(random() % model.size());
    if (!model[id].pending) continue;
    switch (random() % 3) {
      case 0:
        calls[id].cancel();
        model[id].pending = false;
        break;
      case 1: {
        double delay = static_cast<double>(random() % 2000) / 1000.0;
        calls[id].reset(delay);
        model[id].time = delay;
        model[id].sequence = sequence++;
        break;
      }
      default: {
        double later = static_cast<double>(random() % 500) / 1000.0;
        calls[id].delay(later);
        model[id].time += later;
        model[id].sequence = sequence++;
        break;
      }
    }
  }
  std::vector<Model> expected;
  for (const Model& m : model) {
    if (m.pending) expected.push_back(m);
  }
  std::sort(expected.begin(), expected.end(),
            [](const Model& a, const Model& b) { return std::tie(a.time, a.sequence) < std::tie(b.time, b.sequence); });
  ASSERT_EQ(clock.getDelayedCalls().size(), expected.size());
  clock.advance(10);
  ASSERT_EQ(fired.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); i++) ASSERT_EQ(fired[i], expected[i].id) << "at " << i;
}

TEST(Clock, IsAnIReactorTime) {
  Clock clock;
  IReactorTime& time = clock;
  bool fired = false;
  time.callLater(1, [&] { fired = true; });
  clock.advance(1);
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace torsion::testing
