// Test support: counting heap allocations. An executable that uses it compiles
// allocation_counter.cpp, which replaces the global operator new/delete (every form) with
// counting versions; keep such a test in an executable of its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torsion_test {

/// Allocations (operator new of any form) and their bytes since the process started.
std::uint64_t allocationsSoFar() noexcept;
std::uint64_t allocatedBytesSoFar() noexcept;
/// Blocks given back (operator delete of any form, of a non-null pointer) since the process started.
std::uint64_t releasesSoFar() noexcept;

/// Counts the allocations made while it lives (on every thread).
class AllocationCounter {
 public:
  AllocationCounter() noexcept : allocations_(allocationsSoFar()), bytes_(allocatedBytesSoFar()) {}
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  /// How many allocations since construction.
  std::uint64_t count() const noexcept { return allocationsSoFar() - allocations_; }
  /// How many bytes they asked for.
  std::uint64_t bytes() const noexcept { return allocatedBytesSoFar() - bytes_; }

 private:
  std::uint64_t allocations_;
  std::uint64_t bytes_;
};

}  // namespace torsion_test
