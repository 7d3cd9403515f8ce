// The basic chain: callbacks and errbacks alternating on one chain, as Twisted's
// test_defer.py checks them.
#include <torsion/deferred.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::successResultOf;
using torsion::Deferred;
using torsion::Failure;
using torsion::Result;

TEST(DeferredChain, CallbackReceivesTheValue) {
  Deferred<int> d;
  std::vector<int> seen;
  d.addCallback([&](int n) { seen.push_back(n); });
  EXPECT_TRUE(seen.empty());
  d.callback(5);
  EXPECT_EQ(seen, std::vector<int>{5});
}

TEST(DeferredChain, ErrbackReceivesTheFailure) {
  Deferred<int> d;
  std::string message;
  d.addErrback([&](const Failure& f) {
    message = f.getErrorMessage();
    return 0;
  });
  d.errback(GenericError("boom"));
  EXPECT_EQ(message, "boom");
}

TEST(DeferredChain, EachCallbackGetsThePreviousResultAndTheTypeFollows) {
  Deferred<int> d;
  Deferred<std::size_t> tail = d.addCallback([](int n) { return std::to_string(n * 2); })
                                   .addCallback([](const std::string& s) { return s + "!"; })
                                   .addCallback([](std::string s) { return s.size(); });
  d.callback(21);
  EXPECT_EQ(successResultOf(tail), 3u);  // "42!"
}

TEST(DeferredChain, AddCallbackReturnsTheSameDeferred) {
  Deferred<int> d;
  auto d2 = d.addCallback([](int n) { return n + 1; });
  auto d3 = d2.addErrback([](const Failure&) { return 0; });
  EXPECT_TRUE(d.sameAs(d2));
  EXPECT_TRUE(d2.sameAs(d3));
  EXPECT_FALSE(d.sameAs(Deferred<int>()));
}

TEST(DeferredChain, CopiesOfAHandleShareOneChain) {
  Deferred<int> d;
  Deferred<int> copy = d;
  std::vector<int> seen;
  copy.addCallback([&](int n) {
    seen.push_back(n);
    return n;
  });
  d.callback(3);
  EXPECT_TRUE(copy.called());
  EXPECT_EQ(seen, std::vector<int>{3});
}

TEST(DeferredChain, CallbackThatThrowsSwitchesToTheErrorPath) {
  Deferred<int> d;
  std::vector<std::string> log;
  d.addCallback([&](int) -> int { throw GenericError("from callback"); })
      .addCallback([&](int n) {
        log.push_back("skipped callback");
        return n;
      })
      .addErrback([&](const Failure& f) {
        log.push_back("errback: " + f.getErrorMessage());
        return -1;
      });
  d.callback(1);
  EXPECT_EQ(log, std::vector<std::string>{"errback: from callback"});
}

TEST(DeferredChain, ErrbackReturningAValueRecovers) {
  Deferred<int> d;
  auto tail = d.addErrback([](const Failure&) { return 7; }).addCallback([](int n) { return n * 6; });
  d.errback(GenericError());
  EXPECT_EQ(successResultOf(tail), 42);
}

TEST(DeferredChain, ErrbackThatRethrowsStaysOnTheErrorPath) {
  Deferred<int> d;
  bool callbackRan = false;
  auto tail = d.addErrback([](const Failure& f) -> int { f.raiseException(); }).addCallback([&](int n) {
    callbackRan = true;
    return n;
  });
  d.errback(GenericError("kept"));
  Failure f = failureResultOf(tail);
  EXPECT_FALSE(callbackRan);
  EXPECT_TRUE(f.check<GenericError>());
  EXPECT_EQ(f.getErrorMessage(), "kept");
}

TEST(DeferredChain, ErrbackReturningAFailureStaysOnTheErrorPath) {
  Deferred<int> d;
  auto tail = d.addErrback([](const Failure&) { return Failure(std::out_of_range("replaced")); });
  d.errback(GenericError("original"));
  Failure f = failureResultOf(tail);
  EXPECT_TRUE(f.check<std::out_of_range>());
  EXPECT_EQ(f.getErrorMessage(), "replaced");
}

TEST(DeferredChain, ErrbackThatTrapsLetsOtherErrorsThrough) {
  Deferred<int> trapped;
  trapped.addErrback([](const Failure& f) {
    f.trap<GenericError>();
    return 1;
  });
  Deferred<int> passed = trapped;
  trapped.errback(GenericError());
  EXPECT_EQ(successResultOf(passed), 1);

  Deferred<int> other;
  auto tail = other.addErrback([](const Failure& f) {
    f.trap<GenericError>();
    return 1;
  });
  other.errback(std::out_of_range("not mine"));
  EXPECT_TRUE(failureResultOf(tail).check<std::out_of_range>());
}

TEST(DeferredChain, CallbacksAndErrbacksAlternate) {
  // value -> cb1 -> cb2 (throws) -> [cb3 skipped] -> eb4 (recovers) -> [eb5 skipped] -> cb6
  Deferred<int> d;
  std::vector<std::string> order;
  auto tail = d.addCallback([&](int n) {
                 order.push_back("cb1");
                 return n + 1;
               })
                  .addCallback([&](int) -> int {
                    order.push_back("cb2");
                    throw GenericError();
                  })
                  .addCallback([&](int n) {
                    order.push_back("cb3");
                    return n;
                  })
                  .addErrback([&](const Failure&) {
                    order.push_back("eb4");
                    return 10;
                  })
                  .addErrback([&](const Failure&) {
                    order.push_back("eb5");
                    return 0;
                  })
                  .addCallback([&](int n) {
                    order.push_back("cb6");
                    return n;
                  });
  d.callback(0);
  EXPECT_EQ(order, (std::vector<std::string>{"cb1", "cb2", "eb4", "cb6"}));
  EXPECT_EQ(successResultOf(tail), 10);
}

TEST(DeferredChain, AddCallbacksErrbackDoesNotSeeItsOwnCallbacksException) {
  Deferred<int> d;
  bool pairedErrbackRan = false;
  std::string laterErrback;
  d.addCallbacks([](int) -> int { throw GenericError("cb"); },
                 [&](const Failure&) {
                   pairedErrbackRan = true;
                   return 0;
                 })
      .addErrback([&](const Failure& f) {
        laterErrback = f.getErrorMessage();
        return 0;
      });
  d.callback(1);
  EXPECT_FALSE(pairedErrbackRan);
  EXPECT_EQ(laterErrback, "cb");
}

TEST(DeferredChain, AddCallbacksRunsOnlyTheErrbackOnFailure) {
  Deferred<int> d;
  bool callbackRan = false;
  auto tail = d.addCallbacks(
      [&](int n) {
        callbackRan = true;
        return std::to_string(n);
      },
      [](const Failure& f) { return "recovered from " + f.getErrorMessage(); });
  d.errback(GenericError("x"));
  EXPECT_FALSE(callbackRan);
  EXPECT_EQ(successResultOf(tail), "recovered from x");
}

TEST(DeferredChain, AddBothSeesValuesAndFailures) {
  std::vector<std::string> seen;
  auto record = [&](const Result<int>& r) { seen.push_back(r.ok() ? std::to_string(r.value()) : "failure"); };
  Deferred<int> good;
  good.addBoth(record);
  good.callback(4);
  Deferred<int> bad;
  bad.addBoth(record);
  bad.errback(GenericError());
  EXPECT_EQ(seen, (std::vector<std::string>{"4", "failure"}));
}

TEST(DeferredChain, AddBothReturningTheResultPassesItThrough) {
  int cleanups = 0;
  auto passthru = [&](Result<int>&& r) {
    ++cleanups;
    return std::move(r);
  };
  Deferred<int> good;
  auto goodTail = good.addBoth(passthru);
  good.callback(8);
  Deferred<int> bad;
  auto badTail = bad.addBoth(passthru);
  bad.errback(GenericError("still failed"));
  EXPECT_EQ(successResultOf(goodTail), 8);
  EXPECT_EQ(failureResultOf(badTail).getErrorMessage(), "still failed");
  EXPECT_EQ(cleanups, 2);
}

TEST(DeferredChain, AddBothReturningNothingEndsTheErrorPath) {
  Deferred<int> d;
  Deferred<void> tail = d.addBoth([](const Result<int>&) {});
  d.errback(GenericError());
  EXPECT_NO_THROW(successResultOf(tail));
}

TEST(DeferredChain, CallbackReturningAFailedResultSwitchesPathWithoutThrowing) {
  Deferred<int> d;
  auto tail = d.addCallback([](int n) -> Result<std::string> {
    if (n < 0) return Failure(std::invalid_argument("negative"));
    return std::to_string(n);
  });
  d.callback(-1);
  EXPECT_TRUE(failureResultOf(tail).check<std::invalid_argument>());
}

TEST(DeferredChain, CallbackAddedAfterFiringRunsAtOnce) {
  Deferred<int> d;
  d.callback(9);
  int seen = 0;
  d.addCallback([&](int n) { seen = n; });
  EXPECT_EQ(seen, 9);
}

TEST(DeferredChain, SecondCallbackIsAlreadyCalledError) {
  Deferred<int> d;
  d.callback(1);
  EXPECT_THROW(d.callback(2), torsion::AlreadyCalledError);
}

TEST(DeferredChain, ErrbackAfterCallbackIsAlreadyCalledError) {
  Deferred<int> d;
  d.callback(1);
  EXPECT_THROW(d.errback(GenericError()), torsion::AlreadyCalledError);
}

TEST(DeferredChain, CallbackAfterErrbackIsAlreadyCalledError) {
  Deferred<int> d;
  d.addErrback([](const Failure&) { return 0; });
  d.errback(GenericError());
  EXPECT_THROW(d.callback(1), torsion::AlreadyCalledError);
  EXPECT_THROW(d.errback(GenericError()), torsion::AlreadyCalledError);
}

TEST(DeferredChain, PauseHoldsCallbacksUntilUnpause) {
  Deferred<int> d;
  std::vector<int> seen;
  d.pause();
  d.addCallback([&](int n) {
    seen.push_back(n);
    return n;
  });
  d.callback(1);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(d.paused(), 1);
  d.unpause();
  EXPECT_EQ(seen, std::vector<int>{1});
  EXPECT_EQ(d.paused(), 0);
}

TEST(DeferredChain, PauseIsCounted) {
  Deferred<int> d;
  d.callback(1);
  d.pause();
  d.pause();
  int seen = 0;
  d.addCallback([&](int n) { seen = n; });
  d.unpause();
  EXPECT_EQ(seen, 0);
  d.unpause();
  EXPECT_EQ(seen, 1);
  EXPECT_THROW(d.unpause(), std::logic_error);
}

TEST(DeferredChain, PauseFromInsideACallbackStopsTheRestOfTheChain) {
  Deferred<int> d;
  std::vector<std::string> order;
  d.addCallback([&](int n) {
     order.push_back("first");
     d.pause();
     return n;
   }).addCallback([&](int n) {
    order.push_back("second");
    return n;
  });
  d.callback(0);
  EXPECT_EQ(order, std::vector<std::string>{"first"});
  d.unpause();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
}

TEST(DeferredChain, CallbackAddedFromARunningCallbackRunsAfterIt) {
  // Twisted's test_reentrantRunCallbacks / test_nonReentrantCallbacks.
  Deferred<int> d;
  std::vector<std::string> order;
  d.addCallback([&](int n) {
    d.addCallback([&](int m) {
      order.push_back("added inside");
      return m;
    });
    order.push_back("outer end");
    return n;
  });
  d.callback(0);
  EXPECT_EQ(order, (std::vector<std::string>{"outer end", "added inside"}));
}

TEST(DeferredChain, CallbackAddedFromARunningCallbackRunsAfterTheOnesAlreadyQueued) {
  Deferred<int> d;
  std::vector<std::string> order;
  d.addCallback([&](int n) {
     d.addCallback([&](int m) {
       order.push_back("third (added by first)");
       return m;
     });
     order.push_back("first");
     return n;
   }).addCallback([&](int n) {
    order.push_back("second");
    return n;
  });
  d.callback(0);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "third (added by first)"}));
}

TEST(DeferredChain, ReentrantCallbackSeesAFailureFromTheOneBeforeIt) {
  Deferred<int> d;
  std::string seen;
  d.addCallback([&](int) -> int {
    d.addErrback([&](const Failure& f) {
      seen = f.getErrorMessage();
      return 0;
    });
    throw GenericError("inner failure");
  });
  d.callback(0);
  EXPECT_EQ(seen, "inner failure");
}

TEST(DeferredChain, DeferredVoidCarriesNoValue) {
  Deferred<void> d;
  std::vector<std::string> order;
  Deferred<int> tail = d.addCallback([&] { order.push_back("void callback"); }).addCallback([&] {
    order.push_back("second");
    return 5;
  });
  d.callback();
  EXPECT_EQ(order, (std::vector<std::string>{"void callback", "second"}));
  EXPECT_EQ(successResultOf(tail), 5);
}

TEST(DeferredChain, DeferredVoidErrbackReturningNothingRecovers) {
  Deferred<void> d;
  bool after = false;
  d.addErrback([](const Failure&) {}).addCallback([&] { after = true; });
  d.errback(GenericError());
  EXPECT_TRUE(after);
}

TEST(DeferredChain, MoveOnlyValuesFlowThroughTheChain) {
  Deferred<std::unique_ptr<int>> d;
  auto tail = d.addCallback([](std::unique_ptr<int> p) {
                 *p += 1;
                 return p;
               }).addCallback([](std::unique_ptr<int>&& p) { return *p; });
  d.callback(std::make_unique<int>(41));
  EXPECT_EQ(successResultOf(tail), 42);
}

TEST(DeferredChain, CallbackMayTakeItsValueByReference) {
  Deferred<std::string> d;
  auto tail = d.addCallback([](std::string& s) -> std::string& {
    s += " world";
    return s;  // a reference into the chain's own value: copied out safely
  });
  d.callback("hello");
  EXPECT_EQ(successResultOf(tail), "hello world");
}

TEST(DeferredChain, AddingThroughAStaleHandleThrows) {
  Deferred<int> d;
  d.addCallback([](int n) { return std::to_string(n); });
  EXPECT_THROW(d.addCallback([](int n) { return n; }), std::logic_error);
}

TEST(DeferredChain, FiringThroughADerivedHandleThrows) {
  Deferred<int> d;
  Deferred<std::string> s = d.addCallback([](int n) { return std::to_string(n); });
  EXPECT_THROW(s.callback("nope"), std::logic_error);
  d.callback(1);
  EXPECT_EQ(successResultOf(s), "1");
}

TEST(DeferredChain, MovedFromHandleThrowsInsteadOfCrashing) {
  Deferred<int> d;
  Deferred<int> moved = std::move(d);
  EXPECT_THROW(d.callback(1), std::logic_error);  // NOLINT(bugprone-use-after-move): the point of the test
  moved.callback(1);
  EXPECT_EQ(successResultOf(moved), 1);
}

TEST(DeferredChain, ErrbackAcceptsExceptionObjectsAndExceptionPointers) {
  Deferred<int> a;
  a.errback(std::make_exception_ptr(GenericError("ptr")));
  EXPECT_EQ(failureResultOf(a).getErrorMessage(), "ptr");
  Deferred<int> b;
  try {
    throw GenericError("current");
  } catch (...) {
    b.errback();
  }
  EXPECT_EQ(failureResultOf(b).getErrorMessage(), "current");
}

TEST(DeferredChain, CallbackDroppingTheLastHandleIsSafe) {
  auto holder = std::make_unique<Deferred<int>>();
  int seen = 0;
  holder
      ->addCallback([&](int n) {
        holder.reset();  // the chain must outlive the handle we fired it through
        return n + 1;
      })
      .addCallback([&](int n) { seen = n; });
  Deferred<int> firing = *holder;
  firing.callback(1);
  EXPECT_EQ(seen, 2);
}
