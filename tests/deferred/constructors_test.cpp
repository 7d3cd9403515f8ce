// succeed, fail, maybeDeferred, deferLater.
#include <torsion/deferred.hpp>
#include <torsion/deferred_later.hpp>
#include <torsion/testing/clock.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::hasNoResult;
using deferred_test::successResultOf;
using torsion::Deferred;
using torsion::Failure;
using torsion::testing::Clock;

TEST(DeferredConstructors, SucceedHasFiredWithTheValue) {
  Deferred<std::string> d = torsion::succeed(std::string("success"));
  EXPECT_TRUE(d.called());
  EXPECT_EQ(successResultOf(d), "success");
  EXPECT_NO_THROW(successResultOf(torsion::succeed()));
}

TEST(DeferredConstructors, FailHasFailed) {
  Deferred<int> d = torsion::fail<int>(GenericError("fail"));
  EXPECT_TRUE(d.called());
  EXPECT_EQ(failureResultOf(d).getErrorMessage(), "fail");
  Deferred<void> v = torsion::fail(Failure(GenericError("void")));
  EXPECT_EQ(failureResultOf(v).getErrorMessage(), "void");
}

TEST(DeferredConstructors, PausedFailureWaitsForUnpause) {
  // testPausedFailure
  Deferred<int> d = torsion::fail<int>(GenericError("fail"));
  d.pause();
  std::vector<std::string> errors;
  d.addErrback([&](const Failure& f) {
    errors.push_back(f.getErrorMessage());
    return 0;
  });
  EXPECT_TRUE(errors.empty());
  d.unpause();
  EXPECT_EQ(errors, std::vector<std::string>{"fail"});
}

TEST(DeferredConstructors, MaybeDeferredWrapsAValue) {
  EXPECT_EQ(successResultOf(torsion::maybeDeferred([] { return 5; })), 5);
  EXPECT_EQ(successResultOf(torsion::maybeDeferred([](int x) { return x + 5; }, 10)), 15);
}

TEST(DeferredConstructors, MaybeDeferredTurnsAThrowIntoAFailure) {
  Deferred<int> d = torsion::maybeDeferred([]() -> int { throw std::invalid_argument("that value is unacceptable"); });
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<std::invalid_argument>());
  EXPECT_EQ(f.getErrorMessage(), "that value is unacceptable");
}

TEST(DeferredConstructors, MaybeDeferredPassesADeferredThrough) {
  Deferred<std::string> d1;
  Deferred<std::string> d2 = torsion::maybeDeferred([&] { return d1; });
  EXPECT_TRUE(d2.sameAs(d1));
  d1.callback("Success");
  EXPECT_EQ(successResultOf(d2), "Success");
}

TEST(DeferredConstructors, MaybeDeferredWithAFailedResult) {
  Deferred<int> d = torsion::maybeDeferred([]() -> torsion::Result<int> { return Failure(GenericError("result")); });
  EXPECT_EQ(failureResultOf(d).getErrorMessage(), "result");
}

TEST(DeferredConstructors, MaybeDeferredOfAVoidFunction) {
  bool ran = false;
  Deferred<void> d = torsion::maybeDeferred([&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_NO_THROW(successResultOf(d));
}

TEST(DeferredLater, FiresAfterTheDelayWithTheFunctionsValue) {
  Clock clock;
  Deferred<int> d = torsion::deferLater(clock, 2.0, [] { return 42; });
  clock.advance(1.9);
  EXPECT_FALSE(d.called());
  clock.advance(0.1);
  EXPECT_EQ(successResultOf(d), 42);
}

TEST(DeferredLater, WithoutAFunctionFiresWithNothing) {
  Clock clock;
  Deferred<void> d = torsion::deferLater(clock, 1.0);
  clock.advance(1.0);
  EXPECT_NO_THROW(successResultOf(d));
}

TEST(DeferredLater, ThrowingFunctionFails) {
  Clock clock;
  Deferred<int> d = torsion::deferLater(clock, 1.0, []() -> int { throw GenericError("later"); });
  clock.advance(1.0);
  EXPECT_EQ(failureResultOf(d).getErrorMessage(), "later");
}

TEST(DeferredLater, FunctionReturningADeferredIsWaitedFor) {
  Clock clock;
  Deferred<std::string> inner;
  Deferred<std::string> d = torsion::deferLater(clock, 1.0, [&] { return inner; });
  clock.advance(1.0);
  EXPECT_TRUE(hasNoResult(d));
  inner.callback("inner");
  EXPECT_EQ(successResultOf(d), "inner");
}

TEST(DeferredLater, CancelStopsTheCallAndFailsWithCancelledError) {
  Clock clock;
  bool ran = false;
  Deferred<void> d = torsion::deferLater(clock, 1.0, [&] { ran = true; });
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  d.cancel();
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(2.0);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(failureResultOf(d).check<torsion::CancelledError>());
}
