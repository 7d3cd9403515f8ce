#include <torsion/testing/clock.hpp>

#include <torsion/errors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

// The queue files calls into a timing wheel of 1 ms ticks with levels of 64 slots and
// sorts a slot into an exact heap only when its tick comes up. Delays from a fraction of
// a millisecond to decades (and forever), scheduled, cancelled, reset and delayed while
// time moves in small and large steps, must still run exactly when a sorted model says,
// and getDelayedCalls must list exactly the model's pending calls, soonest first.
TEST(Clock, CallsOfEveryMagnitudeRunInTimeThenSchedulingOrderWhileTimeMoves) {
  Clock clock;
  std::mt19937_64 random(20261201);
  struct Model {
    double time;
    std::uint64_t sequence;
    std::size_t id;
    bool pending;
  };
  std::vector<Model> model;
  std::vector<DelayedCall> calls;
  std::vector<std::size_t> fired;
  std::vector<std::size_t> expectedFired;
  std::uint64_t sequence = 0;
  const auto randomDelay = [&random]() -> double {
    switch (random() % 7) {
      case 0: return 0;
      case 1: return static_cast<double>(random() % 1000) / 1e6;              // within one tick
      case 2: return static_cast<double>(random() % 64) / 1000.0;             // level 0
      case 3: return static_cast<double>(random() % 5000) / 1000.0;           // levels 1 and 2
      case 4: return static_cast<double>(random() % 100000);                  // up to a day
      case 5: return static_cast<double>(random() % 2'000'000'000);           // decades
      default: return static_cast<double>(random() % 300) / 1000.0 + 0.0005;  // between ticks
    }
  };
  const auto sortedPending = [&model] {
    std::vector<Model> pending;
    for (const Model& m : model) {
      if (m.pending) pending.push_back(m);
    }
    std::sort(pending.begin(), pending.end(), [](const Model& a, const Model& b) {
      return std::tie(a.time, a.sequence) < std::tie(b.time, b.sequence);
    });
    return pending;
  };
  const auto schedule = [&](double delay) {
    const std::size_t id = model.size();
    calls.push_back(clock.callLater(delay, [&fired, id] { fired.push_back(id); }));
    model.push_back(Model{clock.seconds() + delay, sequence++, id, true});
  };
  schedule(std::numeric_limits<double>::infinity());
  for (int step = 0; step < 20000; step++) {
    const auto action = random() % 10;
    if (action < 4 || model.empty()) {
      schedule(randomDelay());
    } else if (action < 7) {
      Model& m = model[random() % model.size()];
      if (!m.pending || std::isinf(m.time)) continue;
      if (action == 4) {
        calls[m.id].cancel();
        m.pending = false;
      } else if (action == 5) {
        const double delay = randomDelay();
        calls[m.id].reset(delay);
        m.time = clock.seconds() + delay;
        m.sequence = sequence++;
      } else {
        const double later = randomDelay();
        calls[m.id].delay(later);
        m.time += later;
        m.sequence = sequence++;
      }
    } else {
      // Mostly small steps, sometimes across many ticks, slots or levels at once.
      const double amount =
          action == 9 && random() % 4 == 0 ? randomDelay() : static_cast<double>(random() % 3000) / 1e6;
      clock.advance(amount);
      for (const Model& m : sortedPending()) {
        if (m.time > clock.seconds()) break;
        expectedFired.push_back(m.id);
        model[m.id].pending = false;
      }
      ASSERT_EQ(fired, expectedFired) << "after advancing to " << clock.seconds();
    }
    if (step % 1000 == 0) {
      const std::vector<Model> pending = sortedPending();
      const std::vector<DelayedCall> listed = clock.getDelayedCalls();
      ASSERT_EQ(listed.size(), pending.size());
      for (std::size_t i = 0; i < pending.size(); i++) {
        ASSERT_EQ(listed[i].getTime(), pending[i].time) << "at " << i;
        ASSERT_EQ(listed[i].getTime(), calls[pending[i].id].getTime());
      }
    }
  }
  clock.advance(1e12);
  for (const Model& m : sortedPending()) {
    if (!std::isinf(m.time)) expectedFired.push_back(m.id);
  }
  EXPECT_EQ(fired, expectedFired);
  ASSERT_EQ(clock.getDelayedCalls().size(), 1u);  // the call at infinity never comes
  EXPECT_TRUE(calls[0].active());
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
