// Deferred<T> as a coroutine's return type and as an awaitable (Twisted's
// inlineCallbacks / ensureDeferred / await).
#include <torsion/deferred.hpp>
#include <torsion/deferred_later.hpp>
#include <torsion/testing/clock.hpp>

#include <gtest/gtest.h>

#include <coroutine>
#include <memory>
#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::hasNoResult;
using deferred_test::LogCapture;
using deferred_test::successResultOf;
using torsion::CancelledError;
using torsion::Deferred;
using torsion::Failure;
using torsion::testing::Clock;

namespace {

Deferred<std::string> echo(Deferred<std::string> input) {
  std::string value = co_await input;
  co_return value + "!";
}

Deferred<int> addBoth(Deferred<int> a, Deferred<int> b) {
  int x = co_await a;
  int y = co_await b;
  co_return x + y;
}

Deferred<int> throwsBeforeAwaiting() {
  throw GenericError("early");
  co_return 0;
}

Deferred<int> recovers(Deferred<int> input) {
  try {
    co_return co_await input;
  } catch (const GenericError&) {
  }
  co_return -1;
}

Deferred<void> voidCoroutine(Deferred<void> input, std::vector<std::string>& log) {
  log.push_back("before");
  co_await input;
  log.push_back("after");
}

Deferred<std::string> fetch(Clock& clock, std::string name) {
  return torsion::deferLater(clock, 1.0, [name] { return "page " + name; });
}

Deferred<std::string> crawl(Clock& clock) {
  auto a = co_await fetch(clock, "a");
  auto b = co_await fetch(clock, "b");
  co_return a + " + " + b;
}

struct Tracker {
  explicit Tracker(bool& destroyed) : destroyed_(destroyed) {}
  ~Tracker() { destroyed_ = true; }
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;
  bool& destroyed_;
};

}  // namespace

TEST(DeferredCoroutine, ReturnsItsValueThroughTheDeferred) {
  Deferred<std::string> input;
  Deferred<std::string> out = echo(input);
  EXPECT_TRUE(hasNoResult(out));
  input.callback("hi");
  EXPECT_EQ(successResultOf(out), "hi!");
}

TEST(DeferredCoroutine, AwaitingAFiredDeferredDoesNotSuspend) {
  Deferred<std::string> out = echo(torsion::succeed(std::string("now")));
  EXPECT_EQ(successResultOf(out), "now!");  // fired before echo() returned
}

TEST(DeferredCoroutine, AwaitsInSequence) {
  Deferred<int> a, b;
  Deferred<int> sum = addBoth(a, b);
  b.callback(2);  // b fires first; the coroutine still waits for a
  EXPECT_TRUE(hasNoResult(sum));
  a.callback(40);
  EXPECT_EQ(successResultOf(sum), 42);
}

TEST(DeferredCoroutine, FailureRethrowsAtTheAwaitAndFailsTheCoroutine) {
  Deferred<std::string> input;
  Deferred<std::string> out = echo(input);
  input.errback(GenericError("upstream"));
  Failure f = failureResultOf(out);
  EXPECT_TRUE(f.check<GenericError>());
  EXPECT_EQ(f.getErrorMessage(), "upstream");
}

TEST(DeferredCoroutine, ExceptionBeforeTheFirstAwaitFails) {
  EXPECT_EQ(failureResultOf(throwsBeforeAwaiting()).getErrorMessage(), "early");
}

TEST(DeferredCoroutine, CatchingAtTheAwaitRecovers) {
  Deferred<int> input;
  Deferred<int> out = recovers(input);
  input.errback(GenericError());
  EXPECT_EQ(successResultOf(out), -1);
}

TEST(DeferredCoroutine, VoidCoroutine) {
  std::vector<std::string> log;
  Deferred<void> input;
  Deferred<void> out = voidCoroutine(input, log);
  EXPECT_EQ(log, std::vector<std::string>{"before"});
  input.callback();
  EXPECT_EQ(log, (std::vector<std::string>{"before", "after"}));
  EXPECT_NO_THROW(successResultOf(out));
}

TEST(DeferredCoroutine, CoReturnOfAFailureFailsWithoutThrowing) {
  auto coroutine = []() -> Deferred<int> { co_return Failure(GenericError("returned")); };
  EXPECT_EQ(failureResultOf(coroutine()).getErrorMessage(), "returned");
}

TEST(DeferredCoroutine, CrawlWithAClock) {
  Clock clock;
  Deferred<std::string> result = crawl(clock);
  clock.advance(1.0);
  EXPECT_TRUE(hasNoResult(result));
  clock.advance(1.0);
  EXPECT_EQ(successResultOf(result), "page a + page b");
}

TEST(DeferredCoroutine, CoroutineAwaitingACoroutine) {
  Deferred<std::string> input;
  auto outer = [](Deferred<std::string> in) -> Deferred<std::size_t> {
    std::string inner = co_await echo(in);
    co_return inner.size();
  };
  Deferred<std::size_t> out = outer(input);
  input.callback("abc");
  EXPECT_EQ(successResultOf(out), 4u);
}

TEST(DeferredCoroutine, CancellingTheCoroutineCancelsWhatItAwaits) {
  Deferred<std::string> input;
  Deferred<std::string> out = echo(input);
  out.cancel();
  EXPECT_TRUE(input.called());
  EXPECT_TRUE(failureResultOf(out).check<CancelledError>());
}

TEST(DeferredCoroutine, CoroutineMayCatchTheCancellationAndGoOn) {
  Deferred<int> first;
  Deferred<int> second;
  auto body = [](Deferred<int> a, Deferred<int> b) -> Deferred<int> {
    try {
      co_return co_await a;
    } catch (const CancelledError&) {
    }
    co_return co_await b + 100;
  };
  Deferred<int> out = body(first, second);
  out.cancel();
  EXPECT_TRUE(hasNoResult(out));  // the body caught it and now waits on `second`
  second.callback(1);
  EXPECT_EQ(successResultOf(out), 101);
}

TEST(DeferredCoroutine, CancelCallsTheAwaitedDeferredsCanceller) {
  int cancels = 0;
  Deferred<int> input([&](Deferred<int>& d) {
    ++cancels;
    d.callback(7);  // a canceller may still deliver a value
  });
  auto body = [](Deferred<int> in) -> Deferred<int> { co_return co_await in; };
  Deferred<int> out = body(input);
  out.cancel();
  EXPECT_EQ(cancels, 1);
  EXPECT_EQ(successResultOf(out), 7);
}

TEST(DeferredCoroutine, AwaitingTakesTheResultOfTheAwaitedDeferred) {
  LogCapture capture;
  {
    Deferred<int> input = torsion::fail<int>(GenericError("handled by the coroutine"));
    Deferred<int> out = recovers(input);
    EXPECT_EQ(successResultOf(out), -1);
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredCoroutine, LocalsAreDestroyedBeforeTheDeferredFires) {
  bool destroyed = false;
  bool destroyedWhenFired = false;
  Deferred<void> input;
  auto body = [](Deferred<void> in, bool& flag) -> Deferred<void> {
    Tracker tracker(flag);
    co_await in;
  };
  Deferred<void> out = body(input, destroyed);
  out.addCallback([&] { destroyedWhenFired = destroyed; });
  input.callback();
  EXPECT_TRUE(destroyedWhenFired);
}

TEST(DeferredCoroutine, ManyAwaitsOfFiredDeferredsDoNotGrowTheStack) {
  auto body = []() -> Deferred<long> {
    long total = 0;
    for (int i = 0; i < 100000; ++i) total += co_await torsion::succeed(1L);
    co_return total;
  };
  EXPECT_EQ(successResultOf(body()), 100000L);
}

TEST(DeferredCoroutine, CoAwaitWorksFromOtherCoroutineTypes) {
  struct Task {
    struct promise_type {
      Task get_return_object() { return {}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { std::terminate(); }
    };
  };
  std::string seen;
  Deferred<std::string> input;
  [](Deferred<std::string> in, std::string& out) -> Task { out = co_await in; }(input, seen);
  input.callback("from a foreign coroutine");
  EXPECT_EQ(seen, "from a foreign coroutine");
}
