#include <torsion/detail/block_cache.hpp>

#include <array>

namespace torsion::detail {

namespace {

// The freed blocks of one size.
struct SizeClass {
  std::array<void*, kCachedBlockCapacity> blocks;
  std::size_t count;
  std::size_t blockSize;  // meaningful while count > 0; an empty class takes any size
};

// Trivially destructible, so it stays usable while the thread exits (the main thread's
// static destructors run after its thread_local ones, and may free connections): once
// the releaser below has emptied it, it is closed and frees go straight to delete.
struct Cache {
  std::array<SizeClass, kCachedBlockSizes> classes;
  bool closed;
  bool releaserRegistered;
};
thread_local Cache cache{};

// Gives the cached blocks back when the thread ends, then closes the cache.
struct Releaser {
  Releaser() = default;
  Releaser(const Releaser&) = delete;
  Releaser& operator=(const Releaser&) = delete;
  ~Releaser() {
    cache.closed = true;
    for (SizeClass& sizeClass : cache.classes) {
      while (sizeClass.count > 0) ::operator delete(sizeClass.blocks[--sizeClass.count]);
    }
  }
};
thread_local Releaser releaser;

// The class holding blocks of `bytes`, else an empty one to hold them, else nullptr.
SizeClass* classFor(std::size_t bytes) {
  SizeClass* empty = nullptr;
  for (SizeClass& sizeClass : cache.classes) {
    if (sizeClass.count == 0) {
      if (empty == nullptr) empty = &sizeClass;
    } else if (sizeClass.blockSize == bytes) {
      return &sizeClass;
    }
  }
  return empty;
}

}  // namespace

void* cachedBlockAllocate(std::size_t bytes) {
  for (SizeClass& sizeClass : cache.classes) {
    if (sizeClass.count > 0 && sizeClass.blockSize == bytes) return sizeClass.blocks[--sizeClass.count];
  }
  return ::operator new(bytes);
}

void cachedBlockFree(void* block, std::size_t bytes) noexcept {
  if (!kCachingBlocks || cache.closed || bytes > kLargestCachedBlock) {
    ::operator delete(block);
    return;
  }
  if (!cache.releaserRegistered) {
    [[maybe_unused]] Releaser& ensureReleased = releaser;  // registers the releaser for this thread
    if (cache.closed) {                                    // the thread is past its releaser already
      ::operator delete(block);
      return;
    }
    cache.releaserRegistered = true;
  }
  SizeClass* sizeClass = classFor(bytes);
  if (sizeClass == nullptr || sizeClass->count == kCachedBlockCapacity) {
    ::operator delete(block);
    return;
  }
  sizeClass->blockSize = bytes;
  sizeClass->blocks[sizeClass->count++] = block;
}

}  // namespace torsion::detail
