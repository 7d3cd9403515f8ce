#include "chunk_pool.hpp"

namespace torsion::detail {

std::unique_ptr<char[]> ChunkPool::take() {
  if (spare_.empty()) return std::unique_ptr<char[]>(new char[kChunkSize]);
  auto chunk = std::move(spare_.back());
  spare_.pop_back();
  return chunk;
}

void ChunkPool::give(std::unique_ptr<char[]> chunk) noexcept {
  if (spare_.size() >= kMaxSpare) return;  // let it go
  try {
    spare_.push_back(std::move(chunk));
  } catch (...) {
    // The vector could not grow: the chunk is freed instead of kept.
  }
}

}  // namespace torsion::detail
