// The counting operator new/delete of allocation_counter.hpp: every replaceable form
// ([new.delete]), so that nothing bypasses the count.
#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::uint64_t> allocations{0};
std::atomic<std::uint64_t> allocatedBytes{0};
std::atomic<std::uint64_t> releases{0};

void* countedAllocation(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  allocatedBytes.fetch_add(size, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* countedAlignedAllocation(std::size_t size, std::align_val_t alignment) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  allocatedBytes.fetch_add(size, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(alignment);
  void* memory = nullptr;
  if (::posix_memalign(&memory, align < sizeof(void*) ? sizeof(void*) : align, size == 0 ? 1 : size) != 0)
    return nullptr;
  return memory;
}

void countedRelease(void* memory) noexcept {
  if (memory != nullptr) releases.fetch_add(1, std::memory_order_relaxed);
  std::free(memory);
}
}  // namespace

namespace torsion_test {
std::uint64_t allocationsSoFar() noexcept { return allocations.load(std::memory_order_relaxed); }
std::uint64_t allocatedBytesSoFar() noexcept { return allocatedBytes.load(std::memory_order_relaxed); }
std::uint64_t releasesSoFar() noexcept { return releases.load(std::memory_order_relaxed); }
}  // namespace torsion_test

void* operator new(std::size_t size) {
  if (void* memory = countedAllocation(size)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* memory = countedAllocation(size)) return memory;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* memory = countedAlignedAllocation(size, alignment)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (void* memory = countedAlignedAllocation(size, alignment)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { countedRelease(memory); }
void operator delete[](void* memory) noexcept { countedRelease(memory); }
void operator delete(void* memory, std::size_t) noexcept { countedRelease(memory); }
void operator delete[](void* memory, std::size_t) noexcept { countedRelease(memory); }
void operator delete(void* memory, std::align_val_t) noexcept { countedRelease(memory); }
void operator delete[](void* memory, std::align_val_t) noexcept { countedRelease(memory); }
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept { countedRelease(memory); }
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept { countedRelease(memory); }
void operator delete(void* memory, const std::nothrow_t&) noexcept { countedRelease(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { countedRelease(memory); }
