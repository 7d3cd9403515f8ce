// Unhandled failures are reported when the last reference to their Deferred goes.
#include <torsion/deferred.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::GenericError;
using deferred_test::LogCapture;
using torsion::Deferred;
using torsion::Failure;

TEST(DeferredUnhandled, ReportedWhenTheLastReferenceGoes) {
  LogCapture capture;
  {
    Deferred<int> d;
    d.addCallback([](int) -> int { throw GenericError("nobody handles me"); });
    d.callback(1);
    Deferred<int> copy = d;
    EXPECT_EQ(capture.count("Unhandled error"), 0u);
    d = Deferred<int>();
    EXPECT_EQ(capture.count("Unhandled error"), 0u);  // `copy` still refers to it
  }
  std::vector<std::string> messages = capture.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "Unhandled error in Deferred: deferred_test::GenericError: nobody handles me");
}

TEST(DeferredUnhandled, ReportedOnceForATemporary) {
  LogCapture capture;
  Deferred<int>().addCallback([](int) -> int { throw std::runtime_error("zero"); }).callback(1);
  EXPECT_EQ(capture.count("Unhandled error in Deferred: std::runtime_error: zero"), 1u);
}

TEST(DeferredUnhandled, NotReportedWhenAnErrbackHandlesIt) {
  LogCapture capture;
  {
    Deferred<int> d;
    d.addErrback([](const Failure&) { return 0; });
    d.errback(GenericError());
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredUnhandled, NotReportedForAnUnfiredDeferred) {
  LogCapture capture;
  { Deferred<int> d; }
  EXPECT_TRUE(capture.messages().empty());
}

TEST(DeferredUnhandled, ReportedAgainIfAnErrbackFailsAnew) {
  LogCapture capture;
  {
    Deferred<int> d;
    d.addErrback([](const Failure&) -> int { throw std::logic_error("errback broke"); });
    d.errback(GenericError("original"));
  }
  EXPECT_EQ(capture.count("std::logic_error: errback broke"), 1u);
  EXPECT_EQ(capture.count("original"), 0u);
}

TEST(DeferredUnhandled, ChainedErrorIsReportedOnlyByTheOuterDeferred) {
  // test_chainedErrorCleanup: the inner Deferred's failure went to the outer one.
  LogCapture capture;
  {
    Deferred<void> d;
    d.addCallback([] { return torsion::fail(std::runtime_error("zoop")); });
    d.callback();
    std::vector<std::string> errors;
    d.addErrback([&](const Failure& f) { errors.push_back(f.getErrorMessage()); });
    EXPECT_EQ(errors, std::vector<std::string>{"zoop"});
  }
  EXPECT_EQ(capture.count("Unhandled error"), 0u);
}

TEST(DeferredUnhandled, FailureStuckInAPausedDeferredIsReported) {
  LogCapture capture;
  {
    Deferred<int> d = torsion::fail<int>(GenericError("paused"));
    d.pause();
    d.addErrback([](const Failure&) { return 0; });  // never runs: still paused
  }
  EXPECT_EQ(capture.count("Unhandled error in Deferred: deferred_test::GenericError: paused"), 1u);
}
