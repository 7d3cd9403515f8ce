// Cancellation and addTimeout, after test_defer.py's DeferredCancellerTests and
// DeferredAddTimeoutTests.
#include <torsion/deferred.hpp>
#include <torsion/testing/clock.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::hasNoResult;
using deferred_test::successResultOf;
using torsion::CancelledError;
using torsion::Deferred;
using torsion::Failure;
using torsion::Result;
using torsion::testing::Clock;

TEST(DeferredCancel, WithoutCancellerErrbacksWithCancelledError) {
  Deferred<int> d;
  bool callbackRan = false;
  auto tail = d.addCallback([&](int n) {
    callbackRan = true;
    return n;
  });
  d.cancel();
  EXPECT_FALSE(callbackRan);
  EXPECT_TRUE(failureResultOf(tail).check<CancelledError>());
}

TEST(DeferredCancel, WithoutCancellerOneLateCallbackIsSwallowedThenRaises) {
  // test_raisesAfterCancelAndCallback / test_raisesAfterCancelAndErrback
  Deferred<int> d;
  d.cancel();
  EXPECT_NO_THROW(d.callback(1));
  EXPECT_THROW(d.callback(2), torsion::AlreadyCalledError);
  EXPECT_THROW(d.errback(GenericError()), torsion::AlreadyCalledError);

  Deferred<int> e;
  e.cancel();
  EXPECT_NO_THROW(e.errback(GenericError()));
  EXPECT_THROW(e.callback(2), torsion::AlreadyCalledError);
  EXPECT_TRUE(failureResultOf(e).check<CancelledError>());
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CancellingTwiceWithoutCancellerKeepsTheFirstFailure) {
  Deferred<int> d;
  std::vector<std::string> errors;
  d.addErrback([&](const Failure& f) -> Result<int> {
    errors.push_back(f.typeName());
    return f;
  });
  d.cancel();
  d.callback(1);  // swallowed
  d.cancel();     // fired already: nothing
  EXPECT_EQ(errors.size(), 1u);
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CancellerIsCalledWithTheDeferred) {
  int calls = 0;
  Deferred<int>* seen = nullptr;
  Deferred<int> d([&](Deferred<int>& self) {
    ++calls;
    seen = &self;
    EXPECT_FALSE(self.called());
  });
  Deferred<int> keep = d;
  d.cancel();
  EXPECT_EQ(calls, 1);
  ASSERT_NE(seen, nullptr);
  EXPECT_TRUE(failureResultOf(keep).check<CancelledError>());
}

TEST(DeferredCancel, CancellerIsCalledOnlyOnce) {
  int calls = 0;
  Deferred<int> d([&](Deferred<int>&) { ++calls; });
  d.cancel();
  d.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, WithCancellerLateResultsRaise) {
  // test_simpleCanceller: only canceller-less Deferreds swallow a late result.
  Deferred<int> d([](Deferred<int>&) {});
  d.cancel();
  EXPECT_THROW(d.callback(1), torsion::AlreadyCalledError);
}

TEST(DeferredCancel, CancellerThatErrbacksChoosesTheFailure) {
  Deferred<int> d([](Deferred<int>& self) { self.errback(GenericError("custom")); });
  d.cancel();
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<GenericError>());
  EXPECT_FALSE(f.check<CancelledError>());
}

TEST(DeferredCancel, CancellerThatCallbacksChoosesTheValue) {
  Deferred<std::string> d([](Deferred<std::string>& self) { self.callback("hello!"); });
  d.cancel();
  EXPECT_EQ(successResultOf(d), "hello!");
}

TEST(DeferredCancel, CancellingAFiredDeferredDoesNothing) {
  int calls = 0;
  Deferred<int> d([&](Deferred<int>&) { ++calls; });
  d.callback(5);
  d.cancel();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(successResultOf(d), 5);

  Deferred<int> failed([&](Deferred<int>&) { ++calls; });
  failed.errback(GenericError("first"));
  failed.cancel();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(failureResultOf(failed).getErrorMessage(), "first");
}

TEST(DeferredCancel, CancellingAnOuterDeferredCancelsTheOneItWaitsOn) {
  // test_cancelNestedDeferred
  int innerCancels = 0;
  Deferred<int> b([&](Deferred<int>&) { ++innerCancels; });
  Deferred<void> a([](Deferred<void>&) { ADD_FAILURE() << "a has fired: its canceller must not run"; });
  a.callback();
  auto tail = a.addCallback([&] { return b; });
  a.cancel();
  EXPECT_EQ(innerCancels, 1);
  EXPECT_TRUE(failureResultOf(tail).check<CancelledError>());
}

TEST(DeferredTimeout, ChainableAndHarmlessWhenFiredInTime) {
  Clock clock;
  Deferred<void> d;
  auto tail = d.addTimeout(5, clock).addCallback([] { return std::string("done"); });
  d.callback();
  EXPECT_EQ(successResultOf(tail), "done");
  EXPECT_TRUE(clock.getDelayedCalls().empty());  // the timer was cancelled
}

TEST(DeferredTimeout, TimesOutWithTimeoutError) {
  Clock clock;
  Deferred<int> d;
  d.addTimeout(10, clock);
  clock.advance(9);
  EXPECT_TRUE(hasNoResult(d));
  clock.advance(6);
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<torsion::TimeoutError>());
  EXPECT_NE(f.getErrorMessage().find("10"), std::string::npos);
}

TEST(DeferredTimeout, SuccessBeforeTimeoutDoesNotCancelLaterInnerDeferreds) {
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock);
  Deferred<void> inner;
  d.addCallback([&](const std::string&) { return inner; });
  d.callback("results");
  clock.advance(15);
  EXPECT_TRUE(hasNoResult(inner));
  EXPECT_FALSE(inner.called());
}

TEST(DeferredTimeout, FailureBeforeTimeoutPassesThrough) {
  Clock clock;
  Deferred<int> d;
  d.addTimeout(10, clock);
  d.errback(std::invalid_argument("fail"));
  clock.advance(15);
  EXPECT_TRUE(failureResultOf(d).check<std::invalid_argument>());
}

TEST(DeferredTimeout, CustomHandlerDecidesTheOutcome) {
  Clock clock;
  Deferred<std::string> d;
  d.addTimeout(10, clock, [](Result<std::string>, double) { return Result<std::string>("OVERRIDDEN"); });
  clock.advance(15);
  EXPECT_EQ(successResultOf(d), "OVERRIDDEN");
}

TEST(DeferredTimeout, CancellerValueOnTimeoutIsKept) {
  // test_timedOutProvidedCancelSuccess
  Clock clock;
  Deferred<std::string> d([](Deferred<std::string>& self) { self.callback("I was cancelled!"); });
  d.addTimeout(10, clock);
  clock.advance(15);
  EXPECT_EQ(successResultOf(d), "I was cancelled!");
}

TEST(DeferredTimeout, CancellerFailureOtherThanCancelledIsKept) {
  // test_timedOutProvidedCancelFailure
  Clock clock;
  Deferred<int> d([](Deferred<int>& self) { self.errback(std::invalid_argument("what!")); });
  d.addTimeout(10, clock);
  clock.advance(15);
  EXPECT_TRUE(failureResultOf(d).check<std::invalid_argument>());
}

TEST(DeferredTimeout, ManualCancelBeforeTimeoutStaysCancelledError) {
  Clock clock;
  Deferred<int> d;
  d.addTimeout(10, clock);
  Deferred<int> inner;
  std::string seen;
  d.addErrback([&](const Failure& f) {
    seen = f.typeName();
    return inner;
  });
  d.cancel();
  EXPECT_EQ(seen, "torsion::CancelledError");
  clock.advance(15);
  EXPECT_FALSE(inner.called());  // the timeout did not fire a second cancel
}

TEST(DeferredTimeout, ErrbackAddedBeforeTimeoutSeesCancelledError) {
  // test_errbackAddedBeforeTimeout
  Clock clock;
  Deferred<int> d;
  std::string seen;
  d.addErrback([&](const Failure& f) {
    seen = f.typeName();
    return f;
  });
  d.addTimeout(10, clock);
  clock.advance(15);
  EXPECT_EQ(seen, "torsion::CancelledError");
  EXPECT_TRUE(failureResultOf(d).check<torsion::TimeoutError>());
}

TEST(DeferredTimeout, ErrbackBeforeTimeoutCanSuppressTheCancellation) {
  Clock clock;
  Deferred<int> d;
  d.addErrback([](const Failure& f) {
    f.trap<CancelledError>();
    return 0;
  });
  d.addTimeout(10, clock);
  clock.advance(15);
  EXPECT_EQ(successResultOf(d), 0);
}

TEST(DeferredTimeout, TimeoutCancelsTheDeferredBeingWaitedOn) {
  Clock clock;
  Deferred<void> outer;
  Deferred<int> inner;
  auto tail = outer.addCallback([&] { return inner; });
  outer.callback();
  tail.addTimeout(1, clock);
  clock.advance(2);
  EXPECT_TRUE(inner.called());  // cancelled; its CancelledError was handed on to `tail`
  EXPECT_TRUE(failureResultOf(tail).check<torsion::TimeoutError>());
}
