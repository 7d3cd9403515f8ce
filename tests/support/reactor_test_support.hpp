// Test support: driving a reactor with hard deadlines, running each behaviour on every
// backend, and capturing the log.
#pragma once

#include <gtest/gtest.h>
#include <torsion/log.hpp>
#include <torsion/reactor.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "test_reactor.hpp"

namespace torsion_test {

/// Seconds on a monotonic clock, for deadlines.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// CPU seconds the calling thread has used: with now(), shows whether a loop slept
/// (CPU time well under wall time) or spun.
inline double threadCpuSeconds() {
  timespec spent{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spent);
  return static_cast<double>(spent.tv_sec) + static_cast<double>(spent.tv_nsec) / 1e9;
}

/// Tells, from its construction on, whether the calling thread's loop slept or spun. A
/// fault that could make the loop busy (no descriptor to accept with, an error that stays
/// readable) must leave its CPU time well under the wall time.
class SpinCheck {
 public:
  SpinCheck() : wallStart_(now()), cpuStart_(threadCpuSeconds()) {}

  /// Success when the thread's CPU time since construction is under half the wall time.
  ::testing::AssertionResult slept() const {
    const double wall = now() - wallStart_;
    const double cpu = threadCpuSeconds() - cpuStart_;
    if (cpu < 0.5 * wall) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the loop spun: " << cpu << " s of CPU in " << wall << " s";
  }

 private:
  double wallStart_;
  double cpuStart_;
};

/// Iterates `reactor` until `done()` is true or `timeoutSeconds` pass (5 s unless given).
/// Every wait in a test goes through here (or runFor), so no test can hang: on timeout
/// the result is a failure naming `what`, for ASSERT_TRUE.
template <class Predicate>
::testing::AssertionResult runUntil(torsion::Reactor& reactor, Predicate&& done, double timeoutSeconds = 5.0,
                                    std::string_view what = "the condition") {
  const double deadline = now() + timeoutSeconds;
  while (!done()) {
    const double left = deadline - now();
    if (left <= 0) {
      return ::testing::AssertionFailure() << "timed out after " << timeoutSeconds << " s waiting for " << what << " ("
                                           << reactor.backendName() << " backend)";
    }
    // Short waits: the predicate may also depend on things outside the reactor.
    step(reactor, std::min(left, 0.02));
  }
  return ::testing::AssertionSuccess();
}

/// Iterates `reactor` for `seconds`, whatever happens: for checking that something does
/// *not* happen within a window.
inline void runFor(torsion::Reactor& reactor, double seconds) {
  const double deadline = now() + seconds;
  for (double left = seconds; left > 0; left = deadline - now()) step(reactor, std::min(left, 0.02));
}

/// Runs `reactor.run()` with a guard timer: if `stop()` is not called within
/// `timeoutSeconds`, the guard stops the loop and the result is a failure.
inline ::testing::AssertionResult runWithDeadline(torsion::Reactor& reactor, double timeoutSeconds) {
  bool timedOut = false;
  auto guard = reactor.callLater(timeoutSeconds, [&] {
    timedOut = true;
    reactor.stop();
  });
  run(reactor);
  if (guard.active()) guard.cancel();
  if (timedOut)
    return ::testing::AssertionFailure() << "reactor.run() was not stopped within " << timeoutSeconds << " s";
  return ::testing::AssertionSuccess();
}

/// A fixture parameterised by backend name (backendsUnderTest(): "asio-attached" too).
/// Tests build their own reactor *after* the state its callbacks touch, so the reactor
/// (whose destructor still calls connectionLost) is destroyed first:
///
/// @code
/// auto owner = torsion_test::makeReactor(backend());
/// torsion::Reactor& reactor = *owner;
/// @endcode
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& backend() const { return GetParam(); }
  bool isSelect() const { return GetParam() == "select"; }
  bool isAttachedAsio() const { return GetParam() == kAsioAttached; }
};

/// Names each instance after its backend: Backends/Suite.Test/epoll ("-" becomes "_",
/// which gtest requires: Backends/Suite.Test/asio_attached).
inline std::string backendTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

/// Collects every log message while alive (the default sink is restored after).
class LogCapture {
 public:
  LogCapture() {
    torsion::log::setSink([this](torsion::log::Level level, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::string(torsion::log::levelName(level)) + ": " + std::string(message));
    });
  }
  ~LogCapture() { torsion::log::resetSink(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// How many messages contain `text`.
  int count(std::string_view text) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(messages_.begin(), messages_.end(),
                                          [&](const std::string& m) { return m.find(text) != std::string::npos; }));
  }
  bool contains(std::string_view text) const { return count(text) > 0; }

  /// Everything logged so far, one message a line, for failure output.
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& m : messages_) text += m + "\n";
    return text;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

}  // namespace torsion_test

/// Instantiates the BackendTest-derived `suite` once per backend built here.
#define TORSION_INSTANTIATE_FOR_EVERY_BACKEND(suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::ValuesIn(::torsion_test::backendsUnderTest()), \
                           ::torsion_test::backendTestName)
