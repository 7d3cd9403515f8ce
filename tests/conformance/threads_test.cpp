// Conformance: the doors between threads and the loop (callFromThread, callInThread), on
// every backend. Also run under TSan.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "conformance_names.hpp"
#include "thread_state.hpp"

namespace {

class Threads : public BackendTest {};

TEST_P(Threads, CallFromThreadFromFourThreadsRunsEveryCallInOrderPerThread) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 10'000;
  constexpr int kBurst = 1'000;
  // Only the loop thread touches these; the atomic lets the callers see progress.
  std::vector<int> lastSeen(kThreads, -1);
  int outOfOrder = 0;
  int ran = 0;
  std::atomic<int> ranShared{0};
  std::atomic<bool> giveUp{false};  // set if the loop stopped early, so callers end soon
  std::atomic<pid_t> loopTid{0};
  std::atomic<int> burstsIntoASleepingLoop{0};
  std::vector<std::thread> callers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  const auto loopThread = std::this_thread::get_id();
  bool onLoopThread = true;
  reactor.callWhenRunning([&] { loopTid = torsion_test::currentThreadId(); });
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&, t] {
      torsion_test::waitFromThread([&] { return loopTid != 0 || giveUp; }, 10);
      for (int burst = 0; burst < kCallsPerThread / kBurst; ++burst) {
        // The loop has drained and fallen asleep (it has no timer due for seconds), so
        // this burst must wake it.
        if (torsion_test::waitFromThread([&] { return torsion_test::threadIsSleeping(loopTid) || giveUp; }, 5) &&
            !giveUp)
          ++burstsIntoASleepingLoop;
        for (int i = burst * kBurst; i < (burst + 1) * kBurst; ++i) {
          reactor.callFromThread([&, t, i] {
            if (std::this_thread::get_id() != loopThread) onLoopThread = false;
            if (i != lastSeen[static_cast<std::size_t>(t)] + 1) ++outOfOrder;
            lastSeen[static_cast<std::size_t>(t)] = i;
            ranShared.store(++ran, std::memory_order_release);
            if (ran == kThreads * kCallsPerThread) reactor.stop();
          });
        }
        // Let the loop drain this burst before the next.
        torsion_test::waitFromThread(
            [&] { return ranShared.load(std::memory_order_acquire) >= (burst + 1) * kBurst || giveUp; }, 5);
      }
    });
  }
  const double start = torsion_test::now();
  const auto result = torsion_test::runWithDeadline(reactor, 20);
  giveUp = true;
  for (auto& caller : callers) caller.join();
  ASSERT_TRUE(result);
  EXPECT_EQ(ran, kThreads * kCallsPerThread);
  EXPECT_EQ(outOfOrder, 0);
  EXPECT_TRUE(onLoopThread);
  for (int last : lastSeen) EXPECT_EQ(last, kCallsPerThread - 1);
  // Each of the 40 bursts found the loop asleep; a lost wake-up would cost seconds.
  EXPECT_EQ(burstsIntoASleepingLoop, kThreads * kCallsPerThread / kBurst);
  EXPECT_LT(torsion_test::now() - start, 10.0);
}

TEST_P(Threads, CallFromThreadWakesALoopThatHasNothingElseToDo) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  // Measured on the loop's thread: from its start to the call, wall and CPU time.
  double startedAt = 0, startedCpu = 0, calledAt = 0, calledCpu = 0, sentAt = 0;
  std::atomic<bool> loopStarted{false};
  reactor.callWhenRunning([&] {
    startedAt = torsion_test::now();
    startedCpu = torsion_test::threadCpuSeconds();
    loopStarted = true;
  });
  std::thread caller([&] {
    const double deadline = torsion_test::now() + 5;
    while (!loopStarted && torsion_test::now() < deadline) std::this_thread::yield();
    // Not synchronisation: a window in which a loop that spun instead of sleeping
    // would burn CPU, which the test then sees.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sentAt = torsion_test::now();
    reactor.callFromThread([&] {
      calledAt = torsion_test::now();
      calledCpu = torsion_test::threadCpuSeconds();
      reactor.stop();
    });
  });
  const auto result = torsion_test::runWithDeadline(reactor, 10);
  caller.join();
  ASSERT_TRUE(result);
  ASSERT_TRUE(loopStarted);
  EXPECT_LT(calledAt - sentAt, 1.0) << "the call should wake the loop at once";
  const double wall = calledAt - startedAt;
  const double cpu = calledCpu - startedCpu;
  EXPECT_GE(wall, 0.09);
  EXPECT_LT(cpu, wall / 4) << "the loop should sleep until woken, not spin: " << cpu << " s of CPU in " << wall << " s";
}

TEST_P(Threads, CallInThreadRunsOffTheLoopAndReportsBackWithCallFromThread) {
  std::thread::id workerThread;
  std::thread::id reportThread;
  int result = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callInThread([&] {
    workerThread = std::this_thread::get_id();
    const int computed = 6 * 7;
    reactor.callFromThread([&, computed] {
      reportThread = std::this_thread::get_id();
      result = computed;
    });
  });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return result != 0; }, 5, "the worker's report"));
  EXPECT_EQ(result, 42);
  EXPECT_NE(workerThread, std::this_thread::get_id());
  EXPECT_EQ(reportThread, std::this_thread::get_id());
}

TEST_P(Threads, TheThreadPoolStaysWithinItsSize) {
  constexpr int kJobs = 8;
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int mostAtOnce = 0;
  int finished = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  EXPECT_THROW(reactor.suggestThreadPoolSize(0), std::invalid_argument);
  reactor.suggestThreadPoolSize(2);
  for (int i = 0; i < kJobs; ++i) {
    reactor.callInThread([&] {
      std::unique_lock lock(mutex);
      mostAtOnce = std::max(mostAtOnce, ++running);
      // Hold the thread a little, so that more jobs would overlap if the pool allowed it.
      changed.wait_for(lock, std::chrono::milliseconds(10));
      --running;
      ++finished;
      changed.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(5), [&] { return finished == kJobs; }));
  EXPECT_LE(mostAtOnce, 2);
  EXPECT_GE(mostAtOnce, 1);
}

TEST_P(Threads, AnExceptionInCallInThreadIsLoggedAndThePoolGoesOn) {
  torsion_test::LogCapture log;
  std::atomic<bool> later{false};
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.suggestThreadPoolSize(1);
  reactor.callInThread([] { throw std::runtime_error("worker failure"); });
  reactor.callInThread([&] { later = true; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return later.load(); }, 5, "the next job"));
  EXPECT_TRUE(log.contains("worker failure")) << log.all();
}

TEST_P(Threads, CallFromThreadOnTheLoopThreadWaitsForTheNextPass) {
  int calls = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callFromThread([&] {
    ++calls;
    reactor.callFromThread([&] { ++calls; });
  });
  reactor.iterate(0);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return calls == 2; }, 5, "the second call"));
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Threads);
