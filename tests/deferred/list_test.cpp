// DeferredList (and its flags), gatherResults, race.
#include <torsion/deferred_list.hpp>
#include <torsion/deferred_race.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::hasNoResult;
using deferred_test::LogCapture;
using deferred_test::successResultOf;
using torsion::CancelledError;
using torsion::Deferred;
using torsion::DeferredList;
using torsion::DeferredListResults;
using torsion::Failure;
using torsion::FirstError;

namespace {
// Twisted's fakeCallbackCanceller: a canceller that fires with a value.
Deferred<std::string> callbackOnCancel() {
  return Deferred<std::string>([](Deferred<std::string>& d) { d.callback("Callback Result"); });
}
}  // namespace

TEST(DeferredListTest, CollectsEveryOutcomeInInputOrder) {
  Deferred<std::string> d1, d2, d3;
  DeferredList list(std::vector{d1, d2, d3});
  d2.addErrback([](const Failure&) { return std::string("caught"); });  // keep d2's own chain quiet
  d1.callback("1");
  EXPECT_TRUE(hasNoResult(list));
  d2.errback(GenericError("2"));
  d3.callback("3");
  DeferredListResults<std::string> results = successResultOf(list);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].first);
  EXPECT_EQ(results[0].second.value(), "1");
  EXPECT_FALSE(results[1].first);
  EXPECT_EQ(results[1].second.failure().getErrorMessage(), "2");
  EXPECT_TRUE(results[2].first);
  EXPECT_EQ(results[2].second.value(), "3");
}

TEST(DeferredListTest, EmptyListFiresAtOnce) {
  DeferredList list(std::vector<Deferred<int>>{});
  EXPECT_TRUE(successResultOf(list).empty());
  DeferredList first(std::vector<Deferred<int>>{}, torsion::fireOnOneCallback);
  EXPECT_FALSE(first.called());  // as Twisted: nothing can succeed, so it never fires
}

TEST(DeferredListTest, AlreadyFiredInputsCount) {
  LogCapture capture;
  Deferred<int> d1, d2;
  d1.errback(GenericError("Bang"));
  d2.callback(2);
  DeferredList list(std::vector{d1, d2});
  auto results = successResultOf(list);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].first);
  EXPECT_EQ(results[1].second.value(), 2);
  d1.addErrback([](const Failure&) { return 0; });  // swallow d1's own failure
}

TEST(DeferredListTest, InputsKeepTheirValues) {
  Deferred<int> d;
  DeferredList list(std::vector{d});
  d.callback(7);
  EXPECT_EQ(successResultOf(d), 7);  // copied, not taken, as Twisted's list shares it
  EXPECT_EQ(successResultOf(list)[0].second.value(), 7);
}

TEST(DeferredListTest, FireOnOneErrbackFailsWithFirstError) {
  Deferred<std::string> d1, d2, d3;
  DeferredList list(std::vector{d1, d2, d3}, {.fireOnOneErrback = true});
  d2.addErrback([](const Failure&) { return std::string(); });
  d1.callback("1");
  EXPECT_TRUE(hasNoResult(list));
  d2.errback(GenericError("from def2"));
  Failure f = failureResultOf(list);
  const FirstError* first = f.value<FirstError>();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->index(), 1u);
  EXPECT_TRUE(first->subFailure().check<GenericError>());
  EXPECT_EQ(first->subFailure().getErrorMessage(), "from def2");
  EXPECT_EQ(std::string(first->what()), "FirstError[#1, deferred_test::GenericError: from def2]");
}

TEST(DeferredListTest, FireOnOneErrbackWithAnAlreadyFailedInput) {
  Deferred<int> d1, d2;
  d1.errback(GenericError("Bang"));
  DeferredList list(std::vector{d1, d2}, {.fireOnOneErrback = true});
  EXPECT_TRUE(failureResultOf(list).check<FirstError>());
  d1.addErrback([](const Failure&) { return 0; });
}

TEST(DeferredListTest, WithoutConsumeErrorsTheInputKeepsItsFailure) {
  // testDeferredListDontConsumeErrors
  Deferred<void> d1;
  DeferredList list(std::vector{d1});
  std::vector<std::string> errorTrap;
  d1.addErrback([&](const Failure& f) { errorTrap.push_back(f.getErrorMessage()); });
  auto resultLists = deferred_test::outcomeOf(Deferred<DeferredListResults<void>>(list));
  d1.errback(GenericError("Bang"));
  EXPECT_EQ(errorTrap, std::vector<std::string>{"Bang"});
  ASSERT_TRUE(resultLists->has_value());
  EXPECT_EQ((**resultLists).value()[0].second.failure().getErrorMessage(), "Bang");
}

TEST(DeferredListTest, ConsumeErrorsTakesTheInputsFailure) {
  // testDeferredListConsumeErrors
  LogCapture capture;
  {
    Deferred<void> d1;
    DeferredList list(std::vector{d1}, {.consumeErrors = true});
    std::vector<std::string> errorTrap;
    d1.addErrback([&](const Failure& f) { errorTrap.push_back(f.getErrorMessage()); });
    d1.errback(GenericError("Bang"));
    EXPECT_TRUE(errorTrap.empty());
    EXPECT_EQ(successResultOf(list)[0].second.failure().getErrorMessage(), "Bang");
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredListTest, FireOnOneCallbackGivesTheFirstValueAndItsIndex) {
  Deferred<std::string> d1, d2;
  DeferredList first(std::vector{d1, d2}, torsion::fireOnOneCallback);
  d2.callback("b");
  EXPECT_EQ(successResultOf(first), (std::pair<std::string, std::size_t>("b", 1)));
  d1.callback("a");  // too late, and harmless
}

TEST(DeferredListTest, FireOnOneCallbackWhenAllFailGivesEveryFailure) {
  Deferred<int> d1, d2;
  DeferredList first(std::vector{d1, d2}, torsion::fireOnOneCallback, {.consumeErrors = true});
  d1.errback(GenericError("one"));
  d2.errback(GenericError("two"));
  const Failure failure = failureResultOf(first);
  const auto* group = failure.value<torsion::FailureGroup>();
  ASSERT_NE(group, nullptr);
  ASSERT_EQ(group->failures().size(), 2u);
  EXPECT_EQ(group->failures()[1].getErrorMessage(), "two");
}

TEST(DeferredListTest, CancelCancelsEveryInput) {
  Deferred<void> one, two;
  DeferredList list(std::vector{one, two});
  list.cancel();
  EXPECT_TRUE(failureResultOf(one).check<CancelledError>());
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  auto results = successResultOf(list);  // a list of failures, not a failure
  EXPECT_FALSE(results[0].first);
  EXPECT_TRUE(results[1].second.failure().check<CancelledError>());
}

TEST(DeferredListTest, CancelWhenAnInputsCancellerCallsBack) {
  // test_cancelDeferredListCallback
  Deferred<std::string> one = callbackOnCancel();
  Deferred<std::string> two;
  DeferredList list(std::vector{one, two});
  list.cancel();
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  auto results = successResultOf(list);
  EXPECT_TRUE(results[0].first);
  EXPECT_EQ(results[0].second.value(), "Callback Result");
  EXPECT_FALSE(results[1].first);
}

TEST(DeferredListTest, CancelWithFireOnOneCallbackAndACancellerThatCallsBack) {
  Deferred<std::string> one = callbackOnCancel();
  Deferred<std::string> two;
  DeferredList first(std::vector{one, two}, torsion::fireOnOneCallback);
  first.cancel();
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  EXPECT_EQ(successResultOf(first), (std::pair<std::string, std::size_t>("Callback Result", 0)));
}

TEST(DeferredListTest, CancelWithFireOnOneErrbackFailsWithFirstError) {
  Deferred<void> one, two;
  DeferredList list(std::vector{one, two}, {.fireOnOneErrback = true});
  list.cancel();
  EXPECT_TRUE(failureResultOf(one).check<CancelledError>());
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  const Failure failure = failureResultOf(list);
  const auto* first = failure.value<FirstError>();
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->subFailure().check<CancelledError>());
}

TEST(DeferredListTest, CancellingAFiredListLeavesTheOtherInputsAlone) {
  // test_cancelFiredOnOneCallbackDeferredList / ...ErrbackDeferredList
  Deferred<void> one, two;
  DeferredList first(std::vector{one, two}, torsion::fireOnOneCallback);
  one.callback();
  first.cancel();
  EXPECT_FALSE(two.called());

  Deferred<void> three, four;
  DeferredList list(std::vector{three, four}, {.fireOnOneErrback = true});
  three.errback(GenericError("test"));
  list.cancel();
  EXPECT_FALSE(four.called());
  EXPECT_TRUE(failureResultOf(three).check<GenericError>());
  EXPECT_TRUE(failureResultOf(list).check<FirstError>());
}

TEST(DeferredListTest, CancelLogsAnExceptionFromACancellerAndGoesOn) {
  LogCapture capture;
  Deferred<void> one([](Deferred<void>&) { throw std::runtime_error("test"); });
  Deferred<void> two;
  DeferredList list(std::vector{one, two});
  list.cancel();
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  EXPECT_EQ(capture.count("test"), 1u);
  one.callback();
}

TEST(GatherResults, GivesTheValuesInOrder) {
  EXPECT_EQ(successResultOf(torsion::gatherResults(std::vector{torsion::succeed(1), torsion::succeed(2)})),
            (std::vector<int>{1, 2}));
  EXPECT_TRUE(successResultOf(torsion::gatherResults(std::vector<Deferred<int>>{})).empty());
}

TEST(GatherResults, FailsWithFirstError) {
  std::vector<Deferred<int>> inputs{torsion::succeed(1), torsion::fail<int>(std::invalid_argument("bad"))};
  Failure f = failureResultOf(torsion::gatherResults(inputs));
  ASSERT_TRUE(f.check<FirstError>());
  EXPECT_TRUE(f.value<FirstError>()->subFailure().check<std::invalid_argument>());
  inputs[1].addErrback([](const Failure&) { return 1; });  // get rid of the input's own error
}

TEST(GatherResults, ConsumeErrorsLeavesNoErrorInTheInput) {
  LogCapture capture;
  {
    Deferred<int> good = torsion::succeed(1);
    Deferred<int> bad = torsion::fail<int>(std::runtime_error("oh noes"));
    auto gathered = torsion::gatherResults(std::vector{good, bad}, true);
    std::vector<std::string> unconsumed;
    bad.addErrback([&](const Failure& f) {
      unconsumed.push_back(f.getErrorMessage());
      return 0;
    });
    EXPECT_TRUE(unconsumed.empty());
    EXPECT_TRUE(failureResultOf(gathered).value<FirstError>()->subFailure().check<std::runtime_error>());
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(GatherResults, CancelCancelsEveryInput) {
  Deferred<void> one, two;
  auto result = torsion::gatherResults(std::vector{one, two});
  result.cancel();
  EXPECT_TRUE(failureResultOf(one).check<CancelledError>());
  EXPECT_TRUE(failureResultOf(two).check<CancelledError>());
  EXPECT_TRUE(failureResultOf(result).value<FirstError>()->subFailure().check<CancelledError>());
}

TEST(GatherResults, CancelWhenEveryCancellerCallsBack) {
  auto result = torsion::gatherResults(std::vector{callbackOnCancel(), callbackOnCancel()});
  result.cancel();
  EXPECT_EQ(successResultOf(result), (std::vector<std::string>{"Callback Result", "Callback Result"}));
}

TEST(GatherResults, TupleFormForMixedTypes) {
  Deferred<int> number;
  Deferred<std::string> text;
  auto both = torsion::gatherResults(number, text);
  text.callback("two");
  EXPECT_TRUE(hasNoResult(both));
  number.callback(1);
  EXPECT_EQ(successResultOf(both), (std::tuple<int, std::string>(1, "two")));
}

TEST(GatherResults, TupleFormFailsWithTheIndexOfTheFirstFailure) {
  Deferred<int> number;
  Deferred<std::string> text;
  auto both = torsion::gatherResults(number, text);
  text.errback(GenericError("no text"));
  const Failure failure = failureResultOf(both);
  const auto* first = failure.value<FirstError>();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->index(), 1u);
  text.addErrback([](const Failure&) { return std::string(); });
  number.callback(1);
}

TEST(Race, FirstSuccessWinsAndTheOthersAreCancelled) {
  Deferred<int> a, b, c;
  auto winner = torsion::race(std::vector{a, b, c});
  b.callback(2);
  EXPECT_EQ(successResultOf(winner), (std::pair<std::size_t, int>(1, 2)));
  EXPECT_TRUE(a.called());
  EXPECT_TRUE(c.called());
}

TEST(Race, FailuresBeforeTheWinnerDoNotCount) {
  Deferred<std::string> a, b;
  auto winner = torsion::race(a, b);
  a.errback(GenericError("a failed"));
  EXPECT_TRUE(hasNoResult(winner));
  b.callback("b");
  EXPECT_EQ(successResultOf(winner).second, "b");
}

TEST(Race, AllFailingIsOneFailureCarryingEveryCause) {
  LogCapture capture;
  {
    Deferred<int> a, b;
    auto result = torsion::race(a, b);
    b.errback(GenericError("second"));
    a.errback(std::invalid_argument("first"));
    const Failure failure = failureResultOf(result);
    const auto* group = failure.value<torsion::FailureGroup>();
    ASSERT_NE(group, nullptr);
    ASSERT_EQ(group->failures().size(), 2u);
    EXPECT_TRUE(group->failures()[0].check<std::invalid_argument>());  // input order
    EXPECT_TRUE(group->failures()[1].check<GenericError>());
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);  // the race took the inputs' failures
}

TEST(Race, CancellingTheRaceCancelsEveryInput) {
  Deferred<int> a, b;
  auto result = torsion::race(a, b);
  result.cancel();
  EXPECT_TRUE(a.called());
  EXPECT_TRUE(b.called());
  const Failure failure = failureResultOf(result);
  const auto* group = failure.value<torsion::FailureGroup>();
  ASSERT_NE(group, nullptr);
  EXPECT_TRUE(group->failures()[0].check<CancelledError>());
}

TEST(Race, OfVoidDeferredsGivesTheIndex) {
  Deferred<void> a, b;
  auto result = torsion::race(a, b);
  a.callback();
  EXPECT_EQ(successResultOf(result), 0u);
}

TEST(DeferredListTest, InputWithNoValueLeftCountsAsAFailure) {
  Deferred<int> inner = torsion::succeed(1);
  Deferred<void> outer;
  auto tail = outer.addCallback([&] { return inner; });
  outer.callback();  // inner's value moves to outer
  DeferredList list(std::vector{inner});
  auto results = successResultOf(list);
  EXPECT_FALSE(results[0].first);
  EXPECT_TRUE(results[0].second.failure().check<std::logic_error>());
  EXPECT_EQ(successResultOf(tail), 1);
}

TEST(GatherResults, TupleFormConsumeErrorsLeavesNoErrorInTheInput) {
  LogCapture capture;
  {
    Deferred<int> number;
    Deferred<std::string> text;
    auto both = torsion::gatherResults(torsion::consumeErrors, number, text);
    text.errback(GenericError("no text"));
    EXPECT_EQ(failureResultOf(both).value<FirstError>()->index(), 1u);
    number.callback(1);
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(GatherResults, TupleFormWithoutConsumeErrorsLeavesTheInputItsFailure) {
  LogCapture capture;
  {
    Deferred<std::string> text;
    auto both = torsion::gatherResults(text);
    text.errback(GenericError("no text"));
    failureResultOf(both);
  }
  EXPECT_EQ(capture.count("Unhandled error"), 1u);
}
