// deferToThread and callFromThread: results cross from other threads to the reactor's
// thread. Run under TSan (-DTORSION_SANITIZE=thread) to check the hand-over.
#include <torsion/deferred_list.hpp>
#include <torsion/deferred_thread.hpp>
#include <torsion/reactor.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deferred_test_support.hpp"
#include "reactor_test_support.hpp"

using deferred_test::GenericError;
using torsion::Deferred;
using torsion::Failure;
using torsion::Result;
using torsion_test::runUntil;

TEST(DeferToThread, RunsOnThePoolAndFiresOnTheReactorThread) {
  torsion::Reactor reactor;
  const std::thread::id reactorThread = std::this_thread::get_id();
  std::thread::id workerThread;  // written by the worker before its result is handed over
  std::thread::id firedOn;
  std::optional<int> result;
  torsion::deferToThread(reactor, [&] {
    workerThread = std::this_thread::get_id();
    return 6 * 7;
  }).addCallback([&](int value) {
    result = value;
    firedOn = std::this_thread::get_id();
  });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return result.has_value(); }, 10, "the thread's result"));
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(firedOn, reactorThread);
  EXPECT_NE(workerThread, reactorThread);
}

TEST(DeferToThread, ExceptionBecomesAFailure) {
  torsion::Reactor reactor;
  std::optional<std::string> error;
  torsion::deferToThread(reactor, []() -> int { throw GenericError("in a thread"); }).addErrback([&](const Failure& f) {
    error = f.getErrorMessage();
    return 0;
  });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return error.has_value(); }, 10, "the failure"));
  EXPECT_EQ(*error, "in a thread");
}

TEST(DeferToThread, VoidAndMoveOnlyFunctions) {
  torsion::Reactor reactor;
  std::atomic<bool> ran{false};
  bool voidDone = false;
  torsion::deferToThread(reactor, [&] { ran = true; }).addCallback([&] { voidDone = true; });
  std::optional<int> moved;
  torsion::deferToThread(reactor, [p = std::make_unique<int>(5)] {
    return std::make_unique<int>(*p + 1);
  }).addCallback([&](std::unique_ptr<int> p) { moved = *p; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return voidDone && moved.has_value(); }, 10, "both results"));
  EXPECT_TRUE(ran);
  EXPECT_EQ(*moved, 6);
}

TEST(DeferToThread, ManyAtOnceGatherInOrder) {
  torsion::Reactor reactor;
  std::vector<Deferred<int>> jobs;
  for (int i = 0; i < 64; ++i) jobs.push_back(torsion::deferToThread(reactor, [i] { return i * i; }));
  std::optional<std::vector<int>> squares;
  torsion::gatherResults(jobs).addCallback([&](std::vector<int> values) { squares = std::move(values); });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return squares.has_value(); }, 20, "64 results"));
  for (int i = 0; i < 64; ++i) EXPECT_EQ((*squares)[static_cast<std::size_t>(i)], i * i);
}

TEST(DeferToThread, CancelledBeforeTheThreadFinishesDropsTheLateResult) {
  torsion::Reactor reactor;
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  Deferred<int> d = torsion::deferToThread(reactor, [&] {
    while (!release) std::this_thread::yield();
    finished = true;
    return 1;
  });
  std::optional<bool> cancelled;
  d.addErrback([&](const Failure& f) {
    cancelled = f.check<torsion::CancelledError>();
    return 0;
  });
  d.cancel();
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_TRUE(*cancelled);
  release = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return finished.load(); }, 10, "the worker"));
  torsion_test::runFor(reactor, 0.05);  // the late result arrives and is swallowed
}

TEST(CallFromThread, FiresDeferredsFromManyThreadsOnTheReactorThread) {
  torsion::Reactor reactor;
  const std::thread::id reactorThread = std::this_thread::get_id();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<Deferred<int>> deferreds(kThreads * kPerThread);
  int firedOnReactor = 0;
  for (auto& d : deferreds) {
    d.addCallback([&](int n) {
      if (std::this_thread::get_id() == reactorThread) ++firedOnReactor;
      return n;
    });
  }
  std::optional<std::vector<int>> all;
  torsion::gatherResults(deferreds).addCallback([&](std::vector<int> values) { all = std::move(values); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&reactor, &deferreds, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int index = t * kPerThread + i;
        // Only the reactor's thread touches the Deferred; this thread only names it.
        Deferred<int>* target = &deferreds[static_cast<std::size_t>(index)];
        reactor.callFromThread([target, index] { target->callback(index); });
      }
    });
  }
  ASSERT_TRUE(runUntil(
      reactor, [&] { return all.has_value(); }, 20, "every callFromThread"));
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(firedOnReactor, kThreads * kPerThread);
  for (int i = 0; i < kThreads * kPerThread; ++i) EXPECT_EQ((*all)[static_cast<std::size_t>(i)], i);
}
