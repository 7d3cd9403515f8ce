#include "write_queue.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace torsion::detail {

namespace {
constexpr std::size_t kMaxIovecs = 64;
// Recycled chunks kept per connection: 128 KiB, enough for a queue at the default high
// water mark (64 KiB) plus one write of up to 64 KiB, so a back-pressured connection
// reuses its chunks instead of allocating once a cycle.
constexpr std::size_t kMaxSpareChunks = 8;
}  // namespace

void WriteQueue::append(Bytes data) {
  while (!data.empty()) {
    if (chunks_.empty() || chunks_.back().length == chunks_.back().capacity) {
      chunks_.push_back(takeChunk());
    }
    Chunk& tail = chunks_.back();
    std::size_t take = std::min(data.size(), tail.capacity - tail.length);
    std::memcpy(tail.data.get() + tail.length, data.data(), take);
    tail.length += take;
    size_ += take;
    data.remove_prefix(take);
  }
}

bool WriteQueue::flush(int fd, int& error) {
  while (size_ > 0) {
    iovec vectors[kMaxIovecs];
    std::size_t count = 0;
    for (std::size_t i = 0; i < chunks_.size() && count < kMaxIovecs; ++i) {
      std::size_t skip = i == 0 ? offset_ : 0;
      vectors[count].iov_base = chunks_[i].data.get() + skip;
      vectors[count].iov_len = chunks_[i].length - skip;
      ++count;
    }
    msghdr message{};
    message.msg_iov = vectors;
    message.msg_iovlen = count;
#if defined(MSG_NOSIGNAL)
    ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
#else
    ssize_t sent = ::sendmsg(fd, &message, 0);
#endif
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      error = errno;
      return false;
    }
    auto remaining = static_cast<std::size_t>(sent);
    size_ -= remaining;
    while (remaining > 0) {
      Chunk& head = chunks_.front();
      std::size_t inHead = head.length - offset_;
      if (remaining < inHead) {
        offset_ += remaining;
        break;
      }
      remaining -= inHead;
      offset_ = 0;
      recycle(std::move(head));
      chunks_.erase(chunks_.begin());
    }
    if (static_cast<std::size_t>(sent) == 0) return true;
  }
  // Fully drained: the last chunk may still hold data-less capacity; recycle it.
  for (auto& chunk : chunks_) recycle(std::move(chunk));
  chunks_.clear();
  offset_ = 0;
  return true;
}

void WriteQueue::clear() noexcept {
  for (auto& chunk : chunks_) recycle(std::move(chunk));
  chunks_.clear();
  offset_ = 0;
  size_ = 0;
}

WriteQueue::Chunk WriteQueue::takeChunk() {
  if (!spare_.empty()) {  // a large write fills several recycled chunks
    Chunk chunk = std::move(spare_.back());
    spare_.pop_back();
    return chunk;
  }
  // Always the one size, even for a large write, so that every chunk can be recycled: a
  // chunk sized to one write would be freed after it drained, an allocation per write.
  Chunk chunk;
  chunk.capacity = kChunkSize;
  chunk.data.reset(new char[chunk.capacity]);
  return chunk;
}

void WriteQueue::recycle(Chunk chunk) {
  if (chunk.capacity != kChunkSize || spare_.size() >= kMaxSpareChunks) return;  // let it go
  chunk.length = 0;
  spare_.push_back(std::move(chunk));
}

}  // namespace torsion::detail
