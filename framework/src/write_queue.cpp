#include "write_queue.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace torsion::detail {

namespace {
constexpr std::size_t kMaxIovecs = 64;
constexpr std::size_t kMaxSpareChunks = 4;
}  // namespace

void WriteQueue::append(Bytes data) {
  while (!data.empty()) {
    if (chunks_.empty() || chunks_.back().length == chunks_.back().capacity) {
      chunks_.push_back(takeChunk(data.size()));
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

WriteQueue::Chunk WriteQueue::takeChunk(std::size_t atLeast) {
  if (!spare_.empty()) {  // a large write fills several recycled chunks
    Chunk chunk = std::move(spare_.back());
    spare_.pop_back();
    return chunk;
  }
  // Large writes get one chunk of their own size rather than many small ones.
  Chunk chunk;
  chunk.capacity = std::max(kChunkSize, atLeast);
  chunk.data.reset(new char[chunk.capacity]);
  return chunk;
}

void WriteQueue::recycle(Chunk chunk) {
  if (chunk.capacity != kChunkSize || spare_.size() >= kMaxSpareChunks) return;  // let it go
  chunk.length = 0;
  spare_.push_back(std::move(chunk));
}

}  // namespace torsion::detail
