// The per-thread block cache behind each connection's transport and forProtocol's
// protocols (torsion/detail/block_cache.hpp): a freed block is reused by the next
// allocation of its size; the cache holds blocks of at most kCachedBlockSizes sizes, at
// most kCachedBlockCapacity of each, none larger than kLargestCachedBlock, and gives
// everything else to operator delete; a thread's cached blocks are deleted when it ends,
// and a block freed after that goes to delete too. Each case runs on a fresh thread, whose
// cache starts empty. The counts come from the executable's counting operator new/delete.
#include <torsion/detail/block_cache.hpp>

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

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

TEST(BlockCache, EachSizeKeepsItsOwnBlocks) {
  SKIP_WITHOUT_CACHING();
  std::uint64_t releases = 0;
  std::uint64_t allocations = 0;
  void* small = nullptr;
  void* other = nullptr;
  void* smallAgain = nullptr;
  void* otherAgain = nullptr;
  onFreshThread([&] {
    small = cachedBlockAllocate(kSize);
    other = cachedBlockAllocate(kOtherSize);
    const std::uint64_t releasesBefore = releasesSoFar();
    const std::uint64_t allocationsBefore = allocationsSoFar();
    cachedBlockFree(small, kSize);
    cachedBlockFree(other, kOtherSize);
    otherAgain = cachedBlockAllocate(kOtherSize);
    smallAgain = cachedBlockAllocate(kSize);
    releases = releasesSoFar() - releasesBefore;
    allocations = allocationsSoFar() - allocationsBefore;
    cachedBlockFree(smallAgain, kSize);
    cachedBlockFree(otherAgain, kOtherSize);
  });
  EXPECT_EQ(releases, 0u) << "a block of the second size was not kept";
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(smallAgain, small);
  EXPECT_EQ(otherAgain, other) << "a size was given a block of another size";
}

// Frees one block of each of kCachedBlockSizes sizes (kSize, kSize + 16, ...), so that
// every place of the cache holds a size.
void fillEverySize() {
  for (std::size_t i = 0; i < torsion::detail::kCachedBlockSizes; ++i) {
    cachedBlockFree(cachedBlockAllocate(kSize + 16 * i), kSize + 16 * i);
  }
}
constexpr std::size_t kSizeBeyond = kSize + 16 * torsion::detail::kCachedBlockSizes;

TEST(BlockCache, WhileItHoldsItsSizesAnotherSizeGoesToTheHeap) {
  SKIP_WITHOUT_CACHING();
  std::uint64_t releases = 0;
  std::uint64_t allocations = 0;
  onFreshThread([&] {
    void* beyond = cachedBlockAllocate(kSizeBeyond);
    fillEverySize();
    std::uint64_t before = releasesSoFar();
    cachedBlockFree(beyond, kSizeBeyond);
    releases = releasesSoFar() - before;
    before = allocationsSoFar();
    beyond = cachedBlockAllocate(kSizeBeyond);
    allocations = allocationsSoFar() - before;
    cachedBlockFree(beyond, kSizeBeyond);
  });
  EXPECT_EQ(releases, 1u) << "a block of a size beyond the cache's places was kept";
  EXPECT_EQ(allocations, 1u);
}

TEST(BlockCache, ASizeWhoseBlocksAreAllTakenGivesItsPlaceToTheNextSizeFreed) {
  SKIP_WITHOUT_CACHING();
  void* beyond = nullptr;
  void* reused = nullptr;
  std::uint64_t releases = 0;
  onFreshThread([&] {
    fillEverySize();
    void* block = cachedBlockAllocate(kSize);  // empties kSize's place
    beyond = cachedBlockAllocate(kSizeBeyond);
    const std::uint64_t before = releasesSoFar();
    cachedBlockFree(beyond, kSizeBeyond);
    releases = releasesSoFar() - before;
    reused = cachedBlockAllocate(kSizeBeyond);
    cachedBlockFree(reused, kSizeBeyond);
    cachedBlockFree(block, kSize);  // every place holds another size now: deleted
  });
  EXPECT_EQ(releases, 0u);
  EXPECT_EQ(reused, beyond);
}

TEST(BlockCache, BlocksLargerThanTheLimitAreNeverKept) {
  SKIP_WITHOUT_CACHING();
  constexpr std::size_t kLarge = torsion::detail::kLargestCachedBlock + 1;
  std::uint64_t releases = 0;
  onFreshThread([&] {
    void* largest = cachedBlockAllocate(torsion::detail::kLargestCachedBlock);
    void* large = cachedBlockAllocate(kLarge);
    const std::uint64_t before = releasesSoFar();
    cachedBlockFree(largest, torsion::detail::kLargestCachedBlock);  // kept
    cachedBlockFree(large, kLarge);                                  // deleted
    releases = releasesSoFar() - before;
  });
  EXPECT_EQ(releases, 1u);
}

TEST(BlockCache, AThreadsCachedBlocksAreDeletedWhenItEnds) {
  SKIP_WITHOUT_CACHING();
  constexpr int kBlocks = 10;
  std::uint64_t atBodyEnd = 0;
  onFreshThread([&] {
    std::array<void*, kBlocks> blocks{};
    std::array<void*, kBlocks> others{};
    for (void*& block : blocks) block = cachedBlockAllocate(kSize);
    for (void*& block : others) block = cachedBlockAllocate(kOtherSize);
    for (void* block : blocks) cachedBlockFree(block, kSize);
    for (void* block : others) cachedBlockFree(block, kOtherSize);
    atBodyEnd = releasesSoFar();
  });
  EXPECT_EQ(releasesSoFar() - atBodyEnd, static_cast<std::uint64_t>(2 * kBlocks));
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

// A type aligned beyond what operator new(size) guarantees (a protocol declared
// alignas(64)) gets its block from the aligned operator new instead of the cache.
struct alignas(64) OverAligned {
  char bytes[64];
};

TEST(BlockCache, AnOverAlignedTypeGetsAnAlignedBlock) {
  static_assert(alignof(OverAligned) > __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  std::uintptr_t addresses = 0;
  onFreshThread([&] {
    const torsion::detail::CachedBlockAllocator<OverAligned> allocator;
    for (int i = 0; i < 8; ++i) {  // the second and later reuse nothing unaligned
      auto object = std::allocate_shared<OverAligned>(allocator);
      addresses |= reinterpret_cast<std::uintptr_t>(object.get());
    }
  });
  EXPECT_EQ(addresses % alignof(OverAligned), 0u);
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
