// Internal. WriteQueue: what a transport could not send at once, kept as a short list of
// 16 KiB chunks and flushed with one gathering send (ChunkPool, in
// chunk_pool.hpp, keeps the reactor's spare chunks).
//
//   chunks_:  [ head chunk: sent | unsent ] [ full chunk ] [ tail chunk: data | free ]
//                           ^ offset_                               appends go here ^
//
// Drained chunks go back to the reactor's pool, not to the connection, so a connection
// that keeps queueing reuses the same memory (no allocation per write in steady state)
// while an idle connection holds none.
#pragma once

#include <torsion/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "chunk_pool.hpp"

namespace torsion::detail {

class WriteQueue {
 public:
  explicit WriteQueue(ChunkPool& pool) : pool_(pool) {}
  ~WriteQueue() { clear(); }
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void append(Bytes data);

  /// Sends as much as the socket takes with one sendmsg over up to 64 chunks. Returns
  /// false with `error` set on a socket error; EAGAIN is not an error.
  bool flush(int fd, int& error);

  /// Moves up to `into.size()` bytes from the front of the queue into `into`; returns
  /// how many (the completion path sends them from there).
  std::size_t takeFront(std::span<char> into) noexcept;

  /// Drops everything queued (abort), returning the chunks to the pool.
  void clear() noexcept;

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    std::size_t length = 0;
  };
  void popFront() noexcept;

  ChunkPool& pool_;
  std::vector<Chunk> chunks_;
  std::size_t offset_ = 0;  // bytes of chunks_.front() already sent
  std::size_t size_ = 0;    // unsent bytes
};

}  // namespace torsion::detail
