// Internal. ChunkPool: the reactor's spare write-queue chunks. The reactor owns one and
// hands it to its connections' write queues, so a drained chunk goes back to the pool,
// not to the connection (no allocation per write in steady state, none held when idle).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace torsion::detail {

/// Spare chunks shared by every connection of one reactor, up to a bound.
class ChunkPool {
 public:
  static constexpr std::size_t kChunkSize = 16 * 1024;
  /// At most this many spare chunks (4 MiB) are kept; more are freed.
  static constexpr std::size_t kMaxSpare = 256;

  std::unique_ptr<char[]> take();
  void give(std::unique_ptr<char[]> chunk) noexcept;
  std::size_t spare() const noexcept { return spare_.size(); }

 private:
  std::vector<std::unique_ptr<char[]>> spare_;
};

}  // namespace torsion::detail
