// Who keeps whom alive: a Deferred waiting on another holds it, so cancelling (or a
// timeout) reaches an inner Deferred nothing else refers to; a combination (DeferredList,
// gatherResults, race) holds its inputs; and neither makes a cycle that outlives the
// handles. Freed objects are watched through a sentinel a callback captures; the
// sanitizer build's LeakSanitizer checks the same from outside.
#include <torsion/deferred.hpp>
#include <torsion/deferred_list.hpp>
#include <torsion/deferred_race.hpp>
#include <torsion/testing/clock.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::hasNoResult;
using deferred_test::successResultOf;
using torsion::CancelledError;
using torsion::Deferred;
using torsion::DeferredList;
using torsion::DeferredListResults;

namespace {

// Something for callbacks to capture; the test watches whether it is freed.
struct Sentinel {
  std::shared_ptr<int> object = std::make_shared<int>(0);
  std::weak_ptr<int> watch = object;
  bool freed() const { return watch.expired(); }
};

// A Deferred only `sentinel` and the returned handle refer to (through a callback).
Deferred<int> watched(std::shared_ptr<int> sentinel) {
  Deferred<int> d;
  d.addCallback([sentinel](int n) { return n; });
  return d;
}

}  // namespace

TEST(DeferredOwnership, CancellingTheOuterCancelsAnInnerNobodyElseHolds) {
  Deferred<int> outer;
  bool innerCancelled = false;
  auto tail = outer.addCallback([&](int) { return Deferred<int>([&](Deferred<int>&) { innerCancelled = true; }); });
  outer.callback(1);
  EXPECT_TRUE(hasNoResult(tail));
  tail.cancel();
  EXPECT_TRUE(innerCancelled);
  EXPECT_TRUE(failureResultOf(tail).check<CancelledError>());
}

TEST(DeferredOwnership, TimeoutCancelsAnInnerNobodyElseHolds) {
  torsion::testing::Clock clock;
  Deferred<void> outer;
  auto tail = outer.addCallback([] { return Deferred<int>(); }).addTimeout(1, clock);
  outer.callback();
  clock.advance(2);
  EXPECT_TRUE(failureResultOf(tail).check<torsion::TimeoutError>());
}

TEST(DeferredOwnership, CancellingTheOutermostOfNestedUnheldDeferreds) {
  // outer waits on a Deferred whose callback returned another, held by nobody.
  Deferred<void> outer;
  auto tail = outer.addCallback([] {
    Deferred<void> middle;
    auto waiting = middle.addCallback([] { return Deferred<int>(); });
    middle.callback();
    return waiting;
  });
  outer.callback();
  tail.cancel();
  EXPECT_TRUE(failureResultOf(tail).check<CancelledError>());
}

TEST(DeferredOwnership, OuterAndUnheldInnerAreFreedWithTheLastHandle) {
  Sentinel outerSide;
  Sentinel innerSide;
  {
    Deferred<void> outer;
    outer.addCallback([s = std::move(innerSide.object)] { return watched(s); })
        .addCallback([s = std::move(outerSide.object)](int n) { return n; });
    outer.callback();
    EXPECT_FALSE(outerSide.freed());
    EXPECT_FALSE(innerSide.freed());
  }
  EXPECT_TRUE(outerSide.freed());
  EXPECT_TRUE(innerSide.freed());
}

TEST(DeferredOwnership, OuterNobodyHoldsStillRunsWhenTheInnerFires) {
  Deferred<int> inner;
  int seen = 0;
  {
    Deferred<void> outer;
    outer.addCallback([&] { return inner; }).addCallback([&](int n) { seen = n; });
    outer.callback();
  }
  inner.callback(9);
  EXPECT_EQ(seen, 9);
}

TEST(DeferredOwnership, InnerDroppedUnfiredAfterTheOuterFreesBoth) {
  Sentinel outerSide;
  auto inner = std::make_unique<Deferred<int>>();
  {
    Deferred<void> outer;
    outer.addCallback([&] { return *inner; }).addCallback([s = std::move(outerSide.object)](int n) { return n; });
    outer.callback();
  }
  EXPECT_FALSE(outerSide.freed());  // the inner can still fire it
  inner.reset();
  EXPECT_TRUE(outerSide.freed());
}

TEST(DeferredOwnership, ChainedTargetLeftOnlyToItsWaiterIsFreed) {
  // `target` is fed by `source` (chainDeferred) and waited on by `outer`; once `source`
  // goes unfired, nothing can fire `target` but outer's cancel().
  Sentinel outerSide;
  {
    Deferred<int> source;
    Deferred<int> target;
    source.chainDeferred(target);
    Deferred<void> outer;
    outer.addCallback([target] { return target; }).addCallback([s = std::move(outerSide.object)](int n) { return n; });
    outer.callback();
  }
  EXPECT_TRUE(outerSide.freed());
}

TEST(DeferredOwnership, UnfiredDeferredListWithEveryHandleDroppedIsFreed) {
  Sentinel listSide;
  Sentinel inputSide;
  {
    DeferredList list(std::vector{watched(inputSide.object), Deferred<int>()});
    list.addCallback([s = std::move(listSide.object)](DeferredListResults<int>&&) {});
  }
  inputSide.object.reset();
  EXPECT_TRUE(listSide.freed());
  EXPECT_TRUE(inputSide.freed());
}

TEST(DeferredOwnership, UnfiredGatherResultsWithEveryHandleDroppedIsFreed) {
  Sentinel vectorSide;
  Sentinel tupleSide;
  {
    torsion::gatherResults(std::vector{Deferred<int>(), Deferred<int>()})
        .addCallback([s = std::move(vectorSide.object)](std::vector<int>&&) {});
    torsion::gatherResults(Deferred<int>(), watched(tupleSide.object));
  }
  tupleSide.object.reset();
  EXPECT_TRUE(vectorSide.freed());
  EXPECT_TRUE(tupleSide.freed());
}

TEST(DeferredOwnership, UnfiredRaceWithEveryHandleDroppedIsFreed) {
  Sentinel raceSide;
  {
    torsion::race(std::vector{Deferred<int>(), Deferred<int>()})
        .addCallback([s = std::move(raceSide.object)](std::pair<std::size_t, int>&&) {});
  }
  EXPECT_TRUE(raceSide.freed());
}

TEST(DeferredOwnership, CancellingAListReachesInputsNobodyElseHolds) {
  DeferredList list(std::vector{Deferred<int>(), Deferred<int>()});
  EXPECT_TRUE(hasNoResult(list));
  list.cancel();
  DeferredListResults<int> results = successResultOf(Deferred<DeferredListResults<int>>(list));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].second.failure().check<CancelledError>());
  EXPECT_TRUE(results[1].second.failure().check<CancelledError>());
}

TEST(DeferredOwnership, ListNobodyHoldsStillFiresFromItsInputs) {
  Deferred<int> a;
  int seen = 0;
  DeferredList(std::vector{a}).addCallback([&](DeferredListResults<int>&& r) { seen = r[0].second.value(); });
  torsion::race(std::vector{a}).addCallback([&](std::pair<std::size_t, int>&& r) { seen += r.second; });
  a.callback(3);
  EXPECT_EQ(seen, 6);  // the list copied the value, then the race took it
}
