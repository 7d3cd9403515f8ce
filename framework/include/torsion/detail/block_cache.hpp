// Internal (public only because Factory::forProtocol, a template, uses it). BlockCache: a
// per-thread cache of freed blocks of a few sizes, and the allocator that uses it for the
// shared blocks of the objects every connection makes: its transport and its protocol.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace torsion::detail {

/// How many freed blocks of one size a thread keeps at most.
inline constexpr std::size_t kCachedBlockCapacity = 64;

/// How many sizes a thread keeps blocks of at once (a connection's transport and its
/// protocol, on a thread that serves a few kinds of protocol).
inline constexpr std::size_t kCachedBlockSizes = 4;

/// Blocks larger than this always go back to operator delete: a protocol with a big
/// buffer inside would otherwise keep kCachedBlockCapacity of them alive.
inline constexpr std::size_t kLargestCachedBlock = 2048;

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
/// the same size, or gives it to operator delete when it is larger than
/// kLargestCachedBlock, when the cache holds kCachedBlockCapacity blocks of its size or
/// blocks of kCachedBlockSizes other sizes, or when the thread is exiting.
void cachedBlockFree(void* block, std::size_t bytes) noexcept;

/// An allocator for std::allocate_shared over the cache. Connections come and go in
/// bursts (a pass of the loop may close dozens), and glibc's own per-thread cache keeps
/// only 7 blocks of a size: the rest of a burst took malloc's and free's slow paths,
/// about 120 instructions per block (bench/results/churn.md).
template <class T>
struct CachedBlockAllocator {
  using value_type = T;
  CachedBlockAllocator() noexcept = default;
  template <class U>
  CachedBlockAllocator(const CachedBlockAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) {
    if constexpr (kOverAligned) {
      return std::allocator<T>().allocate(n);  // the cache's blocks are not aligned for it
    } else {
      return static_cast<T*>(cachedBlockAllocate(n * sizeof(T)));
    }
  }
  void deallocate(T* block, std::size_t n) noexcept {
    if constexpr (kOverAligned) {
      std::allocator<T>().deallocate(block, n);
    } else {
      cachedBlockFree(block, n * sizeof(T));
    }
  }

 private:
  // operator new(size) aligns for any type up to this; a protocol declared alignas(64)
  // needs the aligned operator new, which std::allocator uses.
  static constexpr bool kOverAligned = alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  friend bool operator==(const CachedBlockAllocator&, const CachedBlockAllocator&) noexcept { return true; }
};

}  // namespace torsion::detail
