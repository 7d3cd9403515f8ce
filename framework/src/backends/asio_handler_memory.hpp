// Internal. Memory for the Asio backend's operations (waits, posts, the timer), reused;
// no Asio needed.
//
// Asio allocates an operation for every async_wait and post, and recycles the memory
// only in a cache that lives as long as one io_context::run()/run_one() call. The
// reactor re-arms its waits from its wait(), outside any such call, and an attached
// reactor's io_context may be driven one run_one() at a time; without this every
// operation would cost an allocation.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace torsion::detail {

/// A free list of equal blocks, big enough for an operation with its handler.
/// Single-threaded, like the backend.
class HandlerMemory {
 public:
  HandlerMemory() { free_.reserve(kMaxFree); }
  ~HandlerMemory() {
    for (void* block : free_) ::operator delete(block);
  }
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (size > kBlockSize) return ::operator new(size);
    if (free_.empty()) return ::operator new(kBlockSize);
    void* block = free_.back();
    free_.pop_back();
    return block;
  }
  void deallocate(void* block, std::size_t size) {
    if (size > kBlockSize || free_.size() == kMaxFree) {
      ::operator delete(block);
      return;
    }
    free_.push_back(block);
  }

 private:
  static constexpr std::size_t kBlockSize = 256;  // a wait, post or timer operation with its handler fits
  static constexpr std::size_t kMaxFree = 64;
  std::vector<void*> free_;
};

/// The allocator bound to each wait's handler, drawing on a HandlerMemory.
template <class T>
struct RecyclingAllocator {
  using value_type = T;
  HandlerMemory* memory;
  explicit RecyclingAllocator(HandlerMemory* from) noexcept : memory(from) {}
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>& other) noexcept : memory(other.memory) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t n) { memory->deallocate(pointer, n * sizeof(T)); }
  template <class U>
  bool operator==(const RecyclingAllocator<U>& other) const noexcept {
    return memory == other.memory;
  }
  template <class U>
  bool operator!=(const RecyclingAllocator<U>& other) const noexcept {
    return memory != other.memory;
  }
};

}  // namespace torsion::detail
