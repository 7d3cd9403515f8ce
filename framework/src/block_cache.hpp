// Internal. BlockCache: a per-thread cache of freed blocks of one size, and the allocator
// that uses it for the accepted connections' shared blocks.
#pragma once

#include <cstddef>
#include <new>

namespace torsion::detail {

/// How many freed blocks a thread keeps at most.
inline constexpr std::size_t kCachedBlockCapacity = 64;

// Under AddressSanitizer every block goes back to delete at once: a cached block is not
// poisoned, so a use after free would go unseen.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCachingBlocks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kCachingBlocks = false;
#else
inline constexpr bool kCachingBlocks = true;
#endif
#else
inline constexpr bool kCachingBlocks = true;
#endif

/// Takes a block of `bytes` from this thread's cache, or from operator new.
void* cachedBlockAllocate(std::size_t bytes);

/// Keeps `block` (of `bytes`) in this thread's cache for the next cachedBlockAllocate of
/// the same size, or gives it to operator delete when the cache is full, holds another
/// size, or the thread is exiting.
void cachedBlockFree(void* block, std::size_t bytes) noexcept;

/// An allocator for std::allocate_shared over the cache. Connections come and go in
/// bursts (a pass of the loop may close dozens), and glibc's own per-thread cache keeps
/// only 7 blocks of a size: the rest of a burst took malloc's and free's slow paths,
/// about 120 instructions per churned connection (bench/results/churn.md).
template <class T>
struct CachedBlockAllocator {
  using value_type = T;
  CachedBlockAllocator() noexcept = default;
  template <class U>
  CachedBlockAllocator(const CachedBlockAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(cachedBlockAllocate(n * sizeof(T))); }
  void deallocate(T* block, std::size_t n) noexcept { cachedBlockFree(block, n * sizeof(T)); }
  friend bool operator==(const CachedBlockAllocator&, const CachedBlockAllocator&) noexcept { return true; }
};

}  // namespace torsion::detail
