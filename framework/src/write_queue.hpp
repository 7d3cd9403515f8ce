// Internal. WriteQueue: what a transport could not send at once, kept as a short list of
// recycled chunks and flushed with one gathering send.
//
//   chunks_:  [ head chunk: sent | unsent ] [ full chunk ] [ tail chunk: data | free ]
//                           ^ offset_                               appends go here ^
//
// Drained chunks go back to a small free list, so a connection that keeps queueing
// reuses the same memory: no allocation per write in steady state.
#pragma once

#include <torsion/bytes.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace torsion::detail {

class WriteQueue {
 public:
  static constexpr std::size_t kChunkSize = 16 * 1024;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void append(Bytes data);

  /// Sends as much as the socket takes with one sendmsg over up to 64 chunks. Returns
  /// false with `error` set on a socket error; EAGAIN is not an error.
  bool flush(int fd, int& error);

  /// Drops everything queued (abort).
  void clear() noexcept;

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
    std::size_t length = 0;
  };
  Chunk takeChunk();
  void recycle(Chunk chunk);

  std::vector<Chunk> chunks_;
  std::vector<Chunk> spare_;
  std::size_t offset_ = 0;  // bytes of chunks_.front() already sent
  std::size_t size_ = 0;    // unsent bytes
};

}  // namespace torsion::detail
