// A callback (or maybeDeferred, or DeferredLock::run) that returns a DeferredList, or
// any other type derived from Deferred<V>, is waited for exactly like a Deferred<V>.
#include <torsion/deferred.hpp>
#include <torsion/deferred_list.hpp>
#include <torsion/deferred_lock.hpp>
#include <torsion/deferred_race.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::hasNoResult;
using deferred_test::successResultOf;
using torsion::Deferred;
using torsion::DeferredList;
using torsion::DeferredListResults;

TEST(DeferredDerivedReturn, CallbackReturningADeferredListPausesTheChain) {
  Deferred<int> a;
  Deferred<int> b;
  Deferred<void> d;
  int seen = -1;
  auto tail = d.addCallback([&] {
                 return DeferredList(std::vector{a, b});
               }).addCallback([&](auto&& results) {
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(results)>, DeferredListResults<int>>);
    seen = results[0].second.value() + results[1].second.value();
  });
  d.callback();
  EXPECT_EQ(d.paused(), 1);
  EXPECT_EQ(seen, -1);
  a.callback(1);
  EXPECT_EQ(seen, -1);
  b.callback(2);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(d.paused(), 0);
}

TEST(DeferredDerivedReturn, ErrbackReturningADeferredListWaitsForIt) {
  Deferred<int> a;
  Deferred<DeferredListResults<int>> d;
  auto tail = d.addErrback([&](const torsion::Failure&) { return DeferredList(std::vector{a}); });
  d.errback(deferred_test::GenericError());
  EXPECT_TRUE(hasNoResult(tail));
  a.callback(7);
  EXPECT_EQ(successResultOf(tail)[0].second.value(), 7);
}

TEST(DeferredDerivedReturn, CallbackReturningGatherOrRaceResultsPausesTheChain) {
  Deferred<int> a;
  Deferred<int> b;
  Deferred<int> c;
  Deferred<void> d;
  auto gathered = d.addCallback([&] { return torsion::gatherResults(std::vector{a}); });
  d.callback();
  Deferred<void> e;
  auto tuple = e.addCallback([&] { return torsion::gatherResults(b); });
  e.callback();
  Deferred<void> f;
  auto raced = f.addCallback([&] { return torsion::race(std::vector{c}); });
  f.callback();
  EXPECT_TRUE(hasNoResult(gathered));
  EXPECT_TRUE(hasNoResult(tuple));
  EXPECT_TRUE(hasNoResult(raced));
  a.callback(1);
  b.callback(2);
  c.callback(3);
  EXPECT_EQ(successResultOf(gathered), std::vector<int>{1});
  EXPECT_EQ(std::get<0>(successResultOf(tuple)), 2);
  EXPECT_EQ(successResultOf(raced), (std::pair<std::size_t, int>(0, 3)));
}

TEST(DeferredDerivedReturn, MaybeDeferredHandsOnADeferredList) {
  Deferred<int> a;
  auto d = torsion::maybeDeferred([&] { return DeferredList(std::vector{a}); });
  static_assert(std::is_same_v<decltype(d), Deferred<DeferredListResults<int>>>);
  EXPECT_FALSE(d.called());
  a.callback(4);
  EXPECT_EQ(successResultOf(d)[0].second.value(), 4);
}

TEST(DeferredDerivedReturn, LockRunHoldsTheLockUntilTheDeferredListFires) {
  torsion::DeferredLock lock;
  Deferred<int> a;
  auto d = lock.run([&] { return DeferredList(std::vector{a}); });
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(hasNoResult(d));
  a.callback(5);
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(successResultOf(d)[0].second.value(), 5);
}

TEST(DeferredDerivedReturn, SemaphoreRunHoldsTheTokenUntilTheDeferredListFires) {
  torsion::DeferredSemaphore slots(1);
  Deferred<int> a;
  auto d = slots.run([&] { return DeferredList(std::vector{a}); });
  EXPECT_EQ(slots.tokens(), 0u);
  a.callback(5);
  EXPECT_EQ(slots.tokens(), 1u);
  EXPECT_EQ(successResultOf(d)[0].second.value(), 5);
}
