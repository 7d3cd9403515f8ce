#include "block_cache.hpp"

#include <array>

namespace torsion::detail {

namespace {

// Trivially destructible, so it stays usable while the thread exits (the main thread's
// static destructors run after its thread_local ones, and may free connections): once
// the releaser below has emptied it, it is closed and frees go straight to delete.
struct Cache {
  static constexpr std::size_t kCapacity = kCachedBlockCapacity;
  std::array<void*, kCapacity> blocks;
  std::size_t count;
  std::size_t blockSize;
  bool closed;
};
thread_local Cache cache{};

// Gives the cached blocks back when the thread ends, then closes the cache.
struct Releaser {
  Releaser() = default;
  Releaser(const Releaser&) = delete;
  Releaser& operator=(const Releaser&) = delete;
  ~Releaser() {
    cache.closed = true;
    while (cache.count > 0) ::operator delete(cache.blocks[--cache.count]);
  }
};
thread_local Releaser releaser;

}  // namespace

void* cachedBlockAllocate(std::size_t bytes) {
  if (cache.count > 0 && cache.blockSize == bytes) return cache.blocks[--cache.count];
  return ::operator new(bytes);
}

void cachedBlockFree(void* block, std::size_t bytes) noexcept {
  if (kCachingBlocks && !cache.closed && cache.count < Cache::kCapacity &&
      (cache.count == 0 || cache.blockSize == bytes)) {
    if (cache.count == 0) {
      [[maybe_unused]] Releaser& ensureReleased = releaser;  // registers the releaser for this thread
      if (cache.closed) {                                    // the thread is past its releaser already
        ::operator delete(block);
        return;
      }
      cache.blockSize = bytes;
    }
    cache.blocks[cache.count++] = block;
    return;
  }
  ::operator delete(block);
}

}  // namespace torsion::detail
