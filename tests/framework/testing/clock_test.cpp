#include <torsion/testing/clock.hpp>

#include <torsion/errors.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
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
