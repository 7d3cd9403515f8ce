// The per-thread block cache behind accepted connections' shared blocks
// (framework/src/block_cache.hpp): a freed block is reused by the next allocation of its
// size; the cache holds one size and at most kCachedBlockCapacity blocks, and gives
// everything else to operator delete; a thread's cached blocks are deleted when it ends,
// and a block freed after that goes to delete too. Each case runs on a fresh thread, whose
// cache starts empty. The counts come from the executable's counting operator new/delete.
#include "block_cache.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "allocation_counter.hpp"

namespace {

using torsion::detail::cachedBlockAllocate;
using torsion::detail::cachedBlockFree;
using torsion::detail::kCachedBlockCapacity;
using torsion_test::allocationsSoFar;
using torsion_test::releasesSoFar;

constexpr std::size_t kSize = 200;
constexpr std::size_t kOtherSize = 296;

// Runs `body` on a new POSIX thread (std::thread would allocate and free its own state
// around the body, in the counts) and waits for the thread to end, thread_local
// destructors included.
void onFreshThread(const std::function<void()>& body) {
  pthread_t thread{};
  auto run = [](void* argument) -> void* {
    (*static_cast<const std::function<void()>*>(argument))();
    return nullptr;
  };
  ASSERT_EQ(::pthread_create(&thread, nullptr, run, const_cast<std::function<void()>*>(&body)), 0);
  ASSERT_EQ(::pthread_join(thread, nullptr), 0);
}

#define SKIP_WITHOUT_CACHING() \
  if (!torsion::detail::kCachingBlocks) GTEST_SKIP() << "the cache is off under AddressSanitizer"

TEST(BlockCache, AFreedBlockIsTheNextAllocationOfItsSizeWithoutTheHeap) {
  SKIP_WITHOUT_CACHING();
  void* first = nullptr;
  void* second = nullptr;
  std::uint64_t allocations = 0;
  std::uint64_t releases = 0;
  onFreshThread([&] {
    first = cachedBlockAllocate(kSize);
    const std::uint64_t allocationsBefore = allocationsSoFar();
    const std::uint64_t releasesBefore = releasesSoFar();
    cachedBlockFree(first, kSize);
    second = cachedBlockAllocate(kSize);
    allocations = allocationsSoFar() - allocationsBefore;
    releases = releasesSoFar() - releasesBefore;
    cachedBlockFree(second, kSize);
  });
  EXPECT_EQ(second, first);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(releases, 0u);
}

TEST(BlockCache, KeepsAtMostItsCapacityAndDeletesTheRest) {
  SKIP_WITHOUT_CACHING();
  std::uint64_t releasedByFrees = 0;
  std::uint64_t allocatedByReuse = 0;
  onFreshThread([&] {
    std::array<void*, kCachedBlockCapacity + 1> blocks{};
    for (void*& block : blocks) block = cachedBlockAllocate(kSize);
    std::uint64_t before = releasesSoFar();
    for (void* block : blocks) cachedBlockFree(block, kSize);
    releasedByFrees = releasesSoFar() - before;  // only the one past the capacity
    before = allocationsSoFar();
    for (void*& block : blocks) block = cachedBlockAllocate(kSize);
    allocatedByReuse = allocationsSoFar() - before;  // only the one the cache did not keep
    for (void* block : blocks) cachedBlockFree(block, kSize);
  });
  EXPECT_EQ(releasedByFrees, 1u);
  EXPECT_EQ(allocatedByReuse, 1u);
}

TEST(BlockCache, WhileItHoldsOneSizeOtherSizesGoToTheHeap) {
  SKIP_WITHOUT_CACHING();
  std::uint64_t releases = 0;
  std::uint64_t allocations = 0;
  void* kept = nullptr;
  void* reused = nullptr;
  onFreshThread([&] {
    kept = cachedBlockAllocate(kSize);
    void* other = cachedBlockAllocate(kOtherSize);
    cachedBlockFree(kept, kSize);
    std::uint64_t before = releasesSoFar();
    cachedBlockFree(other, kOtherSize);
    releases = releasesSoFar() - before;
    before = allocationsSoFar();
    other = cachedBlockAllocate(kOtherSize);
    allocations = allocationsSoFar() - before;
    reused = cachedBlockAllocate(kSize);
    cachedBlockFree(other, kOtherSize);
    cachedBlockFree(reused, kSize);
  });
  EXPECT_EQ(releases, 1u) << "a block of another size was kept";
  EXPECT_EQ(allocations, 1u) << "a block of another size came from the cache";
  EXPECT_EQ(reused, kept);
}

TEST(BlockCache, AnEmptiedCacheTakesTheNextSizeFreed) {
  SKIP_WITHOUT_CACHING();
  void* other = nullptr;
  void* reused = nullptr;
  std::uint64_t releases = 0;
  onFreshThread([&] {
    cachedBlockFree(cachedBlockAllocate(kSize), kSize);
    void* block = cachedBlockAllocate(kSize);  // empties the cache
    other = cachedBlockAllocate(kOtherSize);
    const std::uint64_t before = releasesSoFar();
    cachedBlockFree(other, kOtherSize);
    releases = releasesSoFar() - before;
    reused = cachedBlockAllocate(kOtherSize);
    cachedBlockFree(reused, kOtherSize);
    cachedBlockFree(block, kSize);  // another size than the cache holds now: deleted
  });
  EXPECT_EQ(releases, 0u);
  EXPECT_EQ(reused, other);
}

TEST(BlockCache, AThreadsCachedBlocksAreDeletedWhenItEnds) {
  SKIP_WITHOUT_CACHING();
  constexpr int kBlocks = 10;
  std::uint64_t atBodyEnd = 0;
  onFreshThread([&] {
    std::array<void*, kBlocks> blocks{};
    for (void*& block : blocks) block = cachedBlockAllocate(kSize);
    for (void* block : blocks) cachedBlockFree(block, kSize);
    atBodyEnd = releasesSoFar();
  });
  EXPECT_EQ(releasesSoFar() - atBodyEnd, static_cast<std::uint64_t>(kBlocks));
}

// Frees its block from a thread_local destructor that runs after the cache's releaser
// (constructed before it, so destroyed after it): as a connection freed late in a
// thread's exit is.
struct LateFree {
  void* block = nullptr;
  ~LateFree() {
    if (block != nullptr) cachedBlockFree(block, kSize);
  }
};
thread_local LateFree lateFree;

TEST(BlockCache, ABlockFreedAfterTheThreadReleasedItsCacheGoesToTheHeap) {
  SKIP_WITHOUT_CACHING();
  constexpr int kBlocks = 3;
  std::uint64_t atBodyEnd = 0;
  onFreshThread([&] {
    lateFree.block = cachedBlockAllocate(kSize);  // constructs lateFree before the releaser
    std::array<void*, kBlocks> blocks{};
    for (void*& block : blocks) block = cachedBlockAllocate(kSize);
    for (void* block : blocks) cachedBlockFree(block, kSize);  // registers the releaser
    atBodyEnd = releasesSoFar();
  });
  // The cached blocks, then the late one: none stays behind in a released cache.
  EXPECT_EQ(releasesSoFar() - atBodyEnd, static_cast<std::uint64_t>(kBlocks + 1));
}

TEST(BlockCache, UnderAddressSanitizerEveryFreeIsADelete) {
  if (torsion::detail::kCachingBlocks) GTEST_SKIP() << "the cache is on in this build";
  std::uint64_t releases = 0;
  onFreshThread([&] {
    void* block = cachedBlockAllocate(kSize);
    const std::uint64_t before = releasesSoFar();
    cachedBlockFree(block, kSize);
    releases = releasesSoFar() - before;
  });
  EXPECT_EQ(releases, 1u) << "a cached block is not poisoned: ASan would miss a use after free";
}

}  // namespace
