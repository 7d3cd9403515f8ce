// DeferredLock, DeferredSemaphore and DeferredQueue, after test_defer.py's
// OtherPrimitivesTests.
#include <torsion/deferred_lock.hpp>
#include <torsion/deferred_queue.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deferred_test_support.hpp"

using deferred_test::failureResultOf;
using deferred_test::GenericError;
using deferred_test::successResultOf;
using torsion::CancelledError;
using torsion::Deferred;
using torsion::DeferredLock;
using torsion::DeferredQueue;
using torsion::DeferredSemaphore;
using torsion::Failure;

TEST(DeferredLockTest, AcquireAndReleaseHandTheLockOnInOrder) {
  DeferredLock lock;
  int counter = 0;
  lock.acquire().addCallback([&] { ++counter; });
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(counter, 1);
  lock.acquire().addCallback([&] { ++counter; });
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(counter, 1);
  EXPECT_EQ(lock.waitingCount(), 1u);
  lock.release();
  EXPECT_TRUE(lock.locked());  // handed to the waiter
  EXPECT_EQ(counter, 2);
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(DeferredLockTest, ReleasingAnUnlockedLockThrows) {
  DeferredLock lock;
  EXPECT_THROW(lock.release(), std::logic_error);
}

TEST(DeferredLockTest, RunHoldsTheLockUntilTheResultArrives) {
  DeferredLock lock;
  Deferred<std::string> control;
  Deferred<std::string> result = lock.run([&] { return control; });
  EXPECT_TRUE(lock.locked());
  int counter = 0;
  lock.acquire().addCallback([&] { ++counter; });
  EXPECT_EQ(counter, 0);
  control.callback("second");
  EXPECT_EQ(successResultOf(result), "second");
  EXPECT_EQ(counter, 1);  // released by run, taken by the waiter
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(DeferredLockTest, RunReleasesWhenTheFunctionThrows) {
  DeferredLock lock;
  Deferred<int> result = lock.run([]() -> int { throw GenericError("inside"); });
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(failureResultOf(result).getErrorMessage(), "inside");
}

TEST(DeferredLockTest, CancellingAPendingAcquireRemovesIt) {
  // test_cancelLockBeforeAcquired
  DeferredLock lock;
  lock.acquire();
  Deferred<void> waiting = lock.acquire();
  waiting.cancel();
  EXPECT_TRUE(failureResultOf(waiting).check<CancelledError>());
  EXPECT_EQ(lock.waitingCount(), 0u);
  lock.release();
  EXPECT_FALSE(lock.locked());  // nobody was left to hand it to
}

TEST(DeferredLockTest, CancellingAnAcquiredLockDoesNothing) {
  DeferredLock lock;
  Deferred<void> d = lock.acquire();
  bool errbackRan = false;
  d.addErrback([&](const Failure&) { errbackRan = true; });
  d.cancel();
  EXPECT_FALSE(errbackRan);
  EXPECT_TRUE(lock.locked());
}

TEST(DeferredSemaphoreTest, AtMostTokensHoldersAtOnce) {
  const std::size_t n = 13;
  DeferredSemaphore sem(n);
  int counter = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    sem.acquire().addCallback([&] { ++counter; });
    EXPECT_EQ(counter, static_cast<int>(i));
  }
  EXPECT_EQ(sem.tokens(), 0u);
  Deferred<void> cancelled = sem.acquire();
  cancelled.cancel();
  EXPECT_TRUE(failureResultOf(cancelled).check<CancelledError>());
  sem.acquire().addCallback([&] { ++counter; });
  EXPECT_EQ(counter, static_cast<int>(n));
  sem.release();
  EXPECT_EQ(counter, static_cast<int>(n) + 1);
  for (std::size_t i = 0; i < n; ++i) sem.release();
  EXPECT_EQ(sem.tokens(), n);
  EXPECT_EQ(sem.limit(), n);
  EXPECT_THROW(sem.release(), std::logic_error);
}

TEST(DeferredSemaphoreTest, RunBoundsConcurrency) {
  DeferredSemaphore sem(2);
  std::vector<Deferred<int>> controls(4);
  std::vector<Deferred<int>> results;
  int running = 0;
  for (auto& control : controls) {
    results.push_back(sem.run([&running, control] {
      ++running;
      return control;
    }));
  }
  EXPECT_EQ(running, 2);
  controls[0].callback(0);
  EXPECT_EQ(running, 3);
  controls[1].callback(1);
  EXPECT_EQ(running, 4);
  controls[2].callback(2);
  controls[3].callback(3);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(successResultOf(results[static_cast<std::size_t>(i)]), i);
  EXPECT_EQ(sem.tokens(), 2u);
}

TEST(DeferredSemaphoreTest, ZeroTokensIsInvalid) { EXPECT_THROW(DeferredSemaphore(0), std::invalid_argument); }

TEST(DeferredSemaphoreTest, NegativeTokensAreInvalid) {
  EXPECT_THROW(DeferredSemaphore(-1), std::invalid_argument);
  EXPECT_THROW(DeferredSemaphore(static_cast<long long>(-5)), std::invalid_argument);
  EXPECT_EQ(DeferredSemaphore(3u).limit(), 3u);
}

TEST(DeferredSemaphoreTest, CancellingAnAcquiredTokenDoesNothing) {
  DeferredSemaphore sem(1);
  Deferred<void> d = sem.acquire();
  bool errbackRan = false;
  d.addErrback([&](const Failure&) { errbackRan = true; });
  d.cancel();
  EXPECT_FALSE(errbackRan);
}

TEST(DeferredQueueTest, PutAndGetWithSizeAndBacklog) {
  // testQueue
  const int n = 2, m = 2;
  DeferredQueue<int> queue(n, m);
  std::vector<int> gotten;
  for (int i = 0; i < m; ++i) queue.get().addCallback([&](int v) { gotten.push_back(v); });
  EXPECT_THROW(queue.get(), torsion::QueueUnderflow);
  for (int i = 0; i < m; ++i) {
    queue.put(i);
    EXPECT_EQ(gotten.size(), static_cast<std::size_t>(i + 1));
  }
  for (int i = 0; i < n; ++i) queue.put(n + i);
  EXPECT_EQ(gotten, (std::vector<int>{0, 1}));
  EXPECT_THROW(queue.put(99), torsion::QueueOverflow);
  EXPECT_EQ(queue.pending().size(), 2u);
  gotten.clear();
  for (int i = 0; i < n; ++i) queue.get().addCallback([&](int v) { gotten.push_back(v); });
  EXPECT_EQ(gotten, (std::vector<int>{2, 3}));
}

TEST(DeferredQueueTest, UnboundedQueueServesGettersInOrder) {
  DeferredQueue<std::string> queue;
  std::vector<std::string> gotten;
  for (int i = 0; i < 3; ++i) queue.get().addCallback([&](std::string s) { gotten.push_back(s); });
  EXPECT_EQ(queue.waitingCount(), 3u);
  queue.put("a");
  queue.put("b");
  queue.put("c");
  EXPECT_EQ(gotten, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(queue.sizeLimit().has_value());
}

TEST(DeferredQueueTest, ZeroLimitsRefuseAtOnce) {
  DeferredQueue<int> noRoom(0);
  EXPECT_THROW(noRoom.put(1), torsion::QueueOverflow);
  DeferredQueue<int> noWaiting(std::nullopt, 0);
  EXPECT_THROW(noWaiting.get(), torsion::QueueUnderflow);
}

TEST(DeferredQueueTest, CancelledGetIsForgotten) {
  // test_cancelQueueAfterGet
  DeferredQueue<int> queue;
  Deferred<int> d = queue.get();
  d.cancel();
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
  EXPECT_EQ(queue.waitingCount(), 0u);
  queue.put(5);  // not given to the cancelled getter (that would be AlreadyCalledError)
  EXPECT_EQ(successResultOf(queue.get()), 5);
}

TEST(DeferredQueueTest, CancellingAFulfilledGetDoesNothing) {
  DeferredQueue<int> queue;
  Deferred<int> d = queue.get();
  bool errbackRan = false;
  d.addErrback([&](const Failure&) {
    errbackRan = true;
    return 0;
  });
  queue.put(1);
  d.cancel();
  EXPECT_FALSE(errbackRan);
}

TEST(DeferredQueueTest, MoveOnlyItems) {
  DeferredQueue<std::unique_ptr<int>> queue;
  queue.put(std::make_unique<int>(3));
  EXPECT_EQ(*successResultOf(queue.get()), 3);
}
