// Deferreds returned from callbacks: the outer chain waits for the inner one, in the
// orders test_defer.py pins down.
#include <torsion/deferred.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::hasNoResult;
using deferred_test::LogCapture;
using deferred_test::successResultOf;
using torsion::Deferred;
using torsion::Failure;

TEST(DeferredNested, CallbackReturningAnUnfiredDeferredPausesTheChain) {
  Deferred<int> outer;
  Deferred<std::string> inner;
  std::vector<std::string> seen;
  outer.addCallback([&](int) { return inner; }).addCallback([&](const std::string& s) { seen.push_back(s); });
  outer.callback(1);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(outer.paused(), 1);  // waiting on `inner`
  inner.callback("inner value");
  EXPECT_EQ(seen, std::vector<std::string>{"inner value"});
  EXPECT_EQ(outer.paused(), 0);
}

TEST(DeferredNested, InnerFailureContinuesDownTheOuterErrorPath) {
  Deferred<int> outer;
  Deferred<int> inner;
  std::string seen;
  outer.addCallback([&](int) { return inner; }).addErrback([&](const Failure& f) {
    seen = f.getErrorMessage();
    return 0;
  });
  outer.callback(1);
  inner.errback(GenericError("inner failed"));
  EXPECT_EQ(seen, "inner failed");
}

TEST(DeferredNested, ErrbackReturningADeferredWaitsForIt) {
  Deferred<int> outer;
  Deferred<int> retry;
  auto tail = outer.addErrback([&](const Failure&) { return retry; });
  outer.errback(GenericError());
  EXPECT_TRUE(hasNoResult(tail));
  retry.callback(3);
  EXPECT_EQ(successResultOf(tail), 3);
}

TEST(DeferredNested, SynchronousImplicitChainTakesTheResultAndLeavesNone) {
  // test_synchronousImplicitChain: the inner's result moves to the outer.
  Deferred<void> first = torsion::succeed();
  Deferred<void> second;
  second.addCallback([&] { return first; });
  second.callback();
  bool firstCallbackRan = false;
  first.addCallback([&] { firstCallbackRan = true; });  // Twisted: runs with None
  EXPECT_TRUE(firstCallbackRan);

  Deferred<int> typedFirst = torsion::succeed(5);
  Deferred<void> typedSecond;
  auto tail = typedSecond.addCallback([&] { return typedFirst; });
  typedSecond.callback();
  EXPECT_EQ(successResultOf(tail), 5);
  bool typedCallbackRan = false;
  typedFirst.addCallback([&](int) { typedCallbackRan = true; });  // no int left to give
  EXPECT_FALSE(typedCallbackRan);
}

TEST(DeferredNested, AsynchronousImplicitChain) {
  Deferred<int> first;
  Deferred<void> second;
  auto secondTail = second.addCallback([&] { return first; });
  second.callback();
  std::vector<int> secondResult;
  secondTail.addCallback([&](int n) { secondResult.push_back(n); });
  EXPECT_TRUE(secondResult.empty());
  first.callback(42);
  EXPECT_EQ(secondResult, std::vector<int>{42});
}

TEST(DeferredNested, SynchronousImplicitErrorChainLogsNothingForTheInner) {
  LogCapture capture;
  {
    Deferred<void> first = torsion::fail(std::runtime_error("First Deferred's Failure"));
    Deferred<void> second;
    second.addCallback([&] { return first; });
    second.callback();
    bool firstCallbackRan = false;
    first.addCallback([&] { firstCallbackRan = true; });  // its failure was handed on: None
    EXPECT_TRUE(firstCallbackRan);
    EXPECT_TRUE(failureResultOf(second).check<std::runtime_error>());
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredNested, AsynchronousImplicitErrorChain) {
  LogCapture capture;
  {
    Deferred<void> first;
    Deferred<void> second;
    second.addCallback([&] { return first; });
    second.callback();
    std::vector<std::string> secondErrors;
    second.addErrback([&](const Failure& f) { secondErrors.push_back(f.getErrorMessage()); });
    first.errback(std::runtime_error("First Deferred's Failure"));
    EXPECT_EQ(secondErrors, std::vector<std::string>{"First Deferred's Failure"});
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredNested, ChainingIsTransitive) {
  // test_doubleAsynchronousImplicitChaining
  Deferred<int> first;
  Deferred<void> second;
  Deferred<int> secondTail = second.addCallback([&] { return first; });
  Deferred<void> third;
  std::vector<int> thirdResult;
  third.addCallback([&] { return secondTail; }).addCallback([&](int n) { thirdResult.push_back(n); });
  second.callback();
  third.callback();
  EXPECT_TRUE(thirdResult.empty());
  first.callback(7);
  EXPECT_EQ(thirdResult, std::vector<int>{7});
}

TEST(DeferredNested, NestedAsynchronousChainedDeferredsRunInOrder) {
  // test_nestedAsynchronousChainedDeferreds
  std::vector<std::string> results;
  Deferred<std::string> inner;
  auto cb = [&](const std::string& result) {
    results.push_back("start-of-cb " + result);
    Deferred<std::string> d = torsion::succeed(std::string("inner"));
    return d
        .addCallback([&](const std::string&) {
          results.push_back("firstCallback inner");
          return inner;
        })
        .addCallback([&](const std::string& r) {
          results.push_back("secondCallback " + r);
          return r + r;
        });
  };
  Deferred<std::string> outer = torsion::succeed(std::string("outer"));
  outer.addCallback(cb).addCallback([&](const std::string& r) { results.push_back(r); });
  EXPECT_EQ(results, (std::vector<std::string>{"start-of-cb outer", "firstCallback inner"}));
  inner.callback("orange");
  EXPECT_EQ(results, (std::vector<std::string>{"start-of-cb outer", "firstCallback inner", "secondCallback orange",
                                               "orangeorange"}));
}

TEST(DeferredNested, NestedChainWithExtraCallbacksOnTheInnerDeferred) {
  // test_nestedAsynchronousChainedDeferredsWithExtraCallbacks
  std::vector<std::string> results;
  Deferred<std::string> inner;
  Deferred<std::string> outer = torsion::succeed(std::string("outer"));
  outer
      .addCallback([&](const std::string& result) {
        results.push_back("start-of-cb " + result);
        return torsion::succeed(std::string("inner"))
            .addCallback([&](const std::string& r) {
              results.push_back("firstCallback " + r);
              return inner.addCallback([](const std::string& s) { return std::vector<std::string>{s}; });
            })
            .addCallback([&](std::vector<std::string> r) {
              results.push_back("secondCallback " + r.at(0));
              r.push_back(r.at(0));
              return r;
            });
      })
      .addCallback([&](const std::vector<std::string>& r) { results.push_back(std::to_string(r.size()) + " items"); });
  inner.callback("withers");
  EXPECT_EQ(results, (std::vector<std::string>{"start-of-cb outer", "firstCallback inner", "secondCallback withers",
                                               "2 items"}));
}

TEST(DeferredNested, InnerCallbacksRunBeforeTheOuterGetsTheResult) {
  // test_innerCallbacksPreserved: the middle Deferred waits on a third; its own
  // remaining callbacks run after the third fires and before the outer continues.
  std::vector<std::string> order;
  Deferred<std::string> third;
  Deferred<std::string> outer = torsion::succeed(std::string("outer"));
  outer.addCallback([&](const std::string&) {
    return torsion::succeed(std::string("middle"))
        .addCallback([&](const std::string&) {
          order.push_back("middle first");
          return third;
        })
        .addCallback([&](const std::string& r) {
          order.push_back("middle second " + r);
          return r;
        });
  });
  third.callback("x");
  outer.addCallback([&](const std::string& r) { order.push_back("outer " + r); });
  EXPECT_EQ(order, (std::vector<std::string>{"middle first", "middle second x", "outer x"}));
}

TEST(DeferredNested, ContinuationIsFoundAfterOtherCallbacks) {
  // test_continueCallbackNotFirst / test_callbackOrderPreserved
  std::vector<std::string> results;
  Deferred<std::string> a;
  Deferred<std::string> outer;
  outer
      .addCallback([&](const std::string& r) {
        results.push_back("cb " + r);
        Deferred<void> d;
        auto tail = d.addCallback([&] {
                       results.push_back("firstCallback");
                       return a.addCallback([](std::string s) { return s + "!"; });
                     }).addCallback([&](const std::string& s) { results.push_back("secondCallback " + s); });
        d.callback();
        return tail;
      })
      .addCallback([&] { results.push_back("final"); });
  outer.callback("outer");
  EXPECT_EQ(results, (std::vector<std::string>{"cb outer", "firstCallback"}));
  a.callback("withers");
  EXPECT_EQ(results, (std::vector<std::string>{"cb outer", "firstCallback", "secondCallback withers!", "final"}));
}

TEST(DeferredNested, ChainedPausedDeferredWithResultWaitsForUnpause) {
  Deferred<int> paused = torsion::succeed(9);
  paused.pause();
  Deferred<void> chained;
  std::vector<int> result;
  chained.addCallback([&] { return paused; }).addCallback([&](int n) { result.push_back(n); });
  chained.callback();
  EXPECT_TRUE(result.empty());
  paused.unpause();
  EXPECT_EQ(result, std::vector<int>{9});
}

TEST(DeferredNested, PausedOuterDoesNotStopTheInnerFromContinuing) {
  // test_pausedDeferredChained
  Deferred<void> first;
  Deferred<void> second;
  first.addCallback([&] { return second; });
  first.callback();
  first.pause();
  second.callback();
  bool ran = false;
  second.addCallback([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(DeferredNested, ReturnedPausedDeferredHoldsTheOuterUntilUnpaused) {
  // testReturnDeferred
  Deferred<int> d1;
  Deferred<int> d2;
  d2.pause();
  std::vector<int> seen;
  d1.addCallback([&](int) { return d2; }).addCallback([&](int n) { seen.push_back(n); });
  d1.callback(1);
  EXPECT_TRUE(seen.empty());
  d2.callback(2);
  EXPECT_TRUE(seen.empty());
  d2.unpause();
  EXPECT_EQ(seen, std::vector<int>{2});
}

TEST(DeferredNested, MiddleDeferredCallbacksAddedLaterStillRun) {
  // test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled
  Deferred<void> first;
  Deferred<void> second;
  Deferred<void> third;
  first.addCallback([&] { return second; });
  second.addCallback([&] { return third; });
  second.callback();
  first.callback();
  third.callback();
  bool ran = false;
  second.addCallback([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(DeferredNested, CallbackReturningItsOwnDeferredFails) {
  Deferred<int> d;
  d.addCallback([&](int) { return d; });
  d.callback(1);
  EXPECT_TRUE(failureResultOf(d).check<std::logic_error>());
}

TEST(DeferredNested, ErrorClearedByChainingIsNotReported) {
  // test_errorClearedByChaining
  LogCapture capture;
  {
    Deferred<void> bad = torsion::fail(std::runtime_error("oh no"));
    Deferred<void> good;
    bad.addErrback([&](const Failure&) { return good; });
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredNested, ChainDeferredForwardsTheResult) {
  Deferred<int> a;
  Deferred<int> b;
  std::vector<int> seen;
  b.addCallback([&](int n) { seen.push_back(n); });
  Deferred<void> rest = a.chainDeferred(b);
  a.callback(11);
  EXPECT_EQ(seen, std::vector<int>{11});
  EXPECT_NO_THROW(successResultOf(rest));  // Twisted: None after chainDeferred
}

TEST(DeferredNested, ChainDeferredForwardsTheFailureAndRecoversTheFirst) {
  Deferred<int> a;
  Deferred<int> b;
  Deferred<void> rest = a.chainDeferred(b);
  a.errback(GenericError("to b"));
  EXPECT_EQ(failureResultOf(b).getErrorMessage(), "to b");
  EXPECT_NO_THROW(successResultOf(rest));
}

TEST(DeferredNested, ReturningAFiredDeferredWhoseValueWasTakenFails) {
  // The first callback takes `inner`'s value; the second gets nothing to go on with, and
  // says so rather than stall.
  Deferred<int> inner = torsion::succeed(5);
  Deferred<int> first = torsion::succeed(0).addCallback([inner](int) { return inner; });
  Deferred<int> second = torsion::succeed(0).addCallback([inner](int) { return inner; });
  EXPECT_EQ(successResultOf(first), 5);
  const Failure failure = failureResultOf(second);
  EXPECT_TRUE(failure.check<std::logic_error>());
  EXPECT_NE(failure.getErrorMessage().find("already handed on"), std::string::npos);
}

TEST(DeferredNested, TwoDeferredsWaitingOnTheSameOneTheSecondFails) {
  Deferred<int> inner;
  Deferred<int> first = torsion::succeed(0).addCallback([inner](int) { return inner; });
  Deferred<int> second = torsion::succeed(0).addCallback([inner](int) { return inner; });
  EXPECT_TRUE(hasNoResult(first));
  EXPECT_TRUE(hasNoResult(second));
  inner.callback(5);
  EXPECT_EQ(successResultOf(first), 5);
  EXPECT_TRUE(failureResultOf(second).check<std::logic_error>());
}

TEST(DeferredNested, VoidDeferredHandedOnTwiceGivesSuccessBothTimes) {
  // Twisted's None is a fine value for a Deferred<void>.
  Deferred<void> inner = torsion::succeed();
  Deferred<void> first = torsion::succeed().addCallback([inner] { return inner; });
  Deferred<void> second = torsion::succeed().addCallback([inner] { return inner; });
  EXPECT_NO_THROW(successResultOf(first));
  EXPECT_NO_THROW(successResultOf(second));
}

TEST(DeferredNested, ChainDeferredToAFiredDeferredFailsWithAlreadyCalled) {
  Deferred<int> a;
  Deferred<int> b = torsion::succeed(1);
  Deferred<void> rest = a.chainDeferred(b);
  a.callback(2);
  EXPECT_TRUE(failureResultOf(rest).check<torsion::AlreadyCalledError>());
  EXPECT_EQ(successResultOf(b), 1);
}

TEST(DeferredNested, ChainDeferredToACancelledDeferredDropsTheResult) {
  Deferred<int> a;
  Deferred<int> b;
  b.cancel();  // no canceller: its one late result is swallowed
  Deferred<void> rest = a.chainDeferred(b);
  a.callback(2);
  EXPECT_NO_THROW(successResultOf(rest));
  EXPECT_TRUE(failureResultOf(b).check<torsion::CancelledError>());
}
