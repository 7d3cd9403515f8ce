// Long chains run without growing the stack (Twisted's test_boundedStackDepth and the
// recursion bug it fixed). Each long case also runs on a thread with a small stack, so
// recursion would crash rather than pass by luck.
#include <torsion/deferred.hpp>

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::successResultOf;
using torsion::Deferred;

namespace {

constexpr int kLong = 100000;

// Runs `fn` on a thread with a 256 KiB stack (a sanitizer build needs more room per
// frame, so it gets 4 MiB; 100,000 recursive steps would still overflow that).
void onSmallStack(const std::function<void()>& fn) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr std::size_t kStack = 4u << 20;
#else
  constexpr std::size_t kStack = 256u << 10;
#endif
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStack);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, const_cast<std::function<void()>*>(&fn)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

std::uintptr_t stackPosition() { return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)); }

// Builds `howMany` Deferreds each waiting on the next (as in test_boundedStackDepth),
// fires them from the top, then fires the innermost; returns the stack position at
// which the top's final callback ran.
std::uintptr_t chainDeferreds(int howMany) {
  std::uintptr_t depth = 0;
  Deferred<void> top;
  std::vector<Deferred<void>> inners(static_cast<std::size_t>(howMany));
  Deferred<void> last;
  top.addCallback([inner = inners[0]] { return inner; }).addCallback([&] { depth = stackPosition(); });
  for (std::size_t i = 0; i + 1 < inners.size(); ++i) {
    inners[i].addCallback([next = inners[i + 1]] { return next; });
  }
  inners.back().addCallback([&] { return last; });
  top.callback();
  for (auto& inner : inners) inner.callback();
  EXPECT_EQ(depth, 0u);  // still waiting on `last`
  last.callback();
  return depth;
}

}  // namespace

TEST(DeferredStack, ChainedDeferredsRunAtTheSameDepthHoweverMany) {
  EXPECT_EQ(chainDeferreds(1), chainDeferreds(2));
  EXPECT_EQ(chainDeferreds(1), chainDeferreds(1000));
}

TEST(DeferredStack, HundredThousandChainedDeferredsFiredFromTheInnermost) {
  onSmallStack([] {
    // d[0] waits on d[1] waits on ... d[n-1]; only d[n-1], the innermost, is left to fire.
    std::vector<Deferred<int>> ds(kLong);
    std::vector<Deferred<int>> tails;
    tails.reserve(kLong);
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) {
      tails.push_back(ds[i].addCallback([next = ds[i + 1]](int) { return next; }));
    }
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) ds[i].callback(0);
    EXPECT_EQ(ds[0].paused(), 1);
    ds.back().callback(42);
    EXPECT_EQ(successResultOf(tails[0]), 42);
  });
}

TEST(DeferredStack, HundredThousandCallbacksReturningFiredDeferreds) {
  onSmallStack([] {
    // Each callback returns a Deferred that already has its result: taken at once.
    Deferred<long> d;
    Deferred<long> tail = d;
    for (int i = 0; i < kLong; ++i) tail = tail.addCallback([](long n) { return torsion::succeed(n + 1); });
    d.callback(0);
    EXPECT_EQ(successResultOf(tail), kLong);
  });
}

TEST(DeferredStack, HundredThousandCallbacksOnOneChain) {
  onSmallStack([] {
    Deferred<long> d;
    Deferred<long> tail = d;
    for (int i = 0; i < kLong; ++i) tail = tail.addCallback([](long n) { return n + 1; });
    d.callback(0);
    EXPECT_EQ(successResultOf(tail), kLong);
  });
}

TEST(DeferredStack, HundredThousandErrbacksAlternatingWithCallbacks) {
  onSmallStack([] {
    Deferred<long> d;
    Deferred<long> tail = d;
    for (int i = 0; i < kLong / 2; ++i) {
      tail = tail.addCallback([](long n) -> long { throw static_cast<int>(n); })
                 .addErrback([](const torsion::Failure& f) -> long {
                   const int* n = f.value<int>();
                   return n != nullptr ? *n + 1 : -1;
                 });
    }
    d.callback(0);
    EXPECT_EQ(successResultOf(tail), kLong / 2);
  });
}

TEST(DeferredStack, DroppingHundredThousandUnfiredChainedDeferredsDoesNotRecurse) {
  onSmallStack([] {
    // Each waits on the next, so each inner holds its outer through the continuation:
    // releasing the innermost releases 100,000 Deferreds one after the other.
    std::vector<Deferred<int>> ds(kLong);
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) {
      ds[i].addCallback([next = ds[i + 1]](int) { return next; });
      ds[i].callback(0);
    }
    Deferred<int> innermost = ds.back();
    ds.clear();  // now only `innermost` holds the whole chain
    innermost = Deferred<int>();
  });
  SUCCEED();
}

TEST(DeferredStack, HundredThousandChainDeferredsInARow) {
  onSmallStack([] {
    // d[0].chainDeferred(d[1]), d[1].chainDeferred(d[2]), ...: firing d[0] fires them all.
    std::vector<Deferred<int>> ds(kLong);
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) ds[i].chainDeferred(ds[i + 1]);
    ds.front().callback(42);
    EXPECT_EQ(successResultOf(ds.back()), 42);
  });
}

TEST(DeferredStack, CancellingTheOutermostOfHundredThousandNestedDeferreds) {
  onSmallStack([] {
    // d[0] waits on d[1] waits on ... d[n-1], which has not fired: cancelling d[0]
    // cancels d[n-1], whose CancelledError comes back out through every level.
    std::vector<Deferred<int>> ds(kLong);
    std::vector<Deferred<int>> tails;
    tails.reserve(kLong);
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) {
      tails.push_back(ds[i].addCallback([next = ds[i + 1]](int) { return next; }));
    }
    for (std::size_t i = 0; i + 1 < ds.size(); ++i) ds[i].callback(0);
    tails.front().cancel();
    EXPECT_TRUE(ds.back().called());
    EXPECT_TRUE(deferred_test::failureResultOf(tails.front()).check<torsion::CancelledError>());
  });
}

namespace {

// Builds 100,000 Deferreds, each waiting on the one made before it, that nothing but the
// one waiting on it refers to; only the outermost is returned. The innermost has not
// fired; its callback holds `sentinel`.
Deferred<int> nestUnheld(std::shared_ptr<int> sentinel) {
  Deferred<int> d;
  d.addCallback([sentinel = std::move(sentinel)](int n) { return n; });
  for (int i = 0; i < kLong; ++i) d = torsion::succeed(0).addCallback([inner = d](int) { return inner; });
  return d;
}

}  // namespace

TEST(DeferredStack, CancellingTheOutermostOfHundredThousandUnheldNestedDeferreds) {
  onSmallStack([] {
    auto sentinel = std::make_shared<int>(0);
    std::weak_ptr<int> watch = sentinel;
    Deferred<int> outer = nestUnheld(std::move(sentinel));
    EXPECT_FALSE(watch.expired());  // the innermost is kept by the one waiting on it
    outer.cancel();
    EXPECT_TRUE(deferred_test::failureResultOf(outer).check<torsion::CancelledError>());
  });
}

TEST(DeferredStack, DroppingTheOutermostOfHundredThousandUnheldNestedDeferredsFreesThem) {
  onSmallStack([] {
    auto sentinel = std::make_shared<int>(0);
    std::weak_ptr<int> watch = sentinel;
    Deferred<int> outer = nestUnheld(std::move(sentinel));
    outer = Deferred<int>();
    EXPECT_TRUE(watch.expired());
  });
}
