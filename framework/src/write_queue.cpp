#include "write_queue.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace torsion::detail {

namespace {
constexpr std::size_t kMaxIovecs = 64;
}  // namespace

void WriteQueue::append(Bytes data) {
  while (!data.empty()) {
    if (chunks_.empty() || chunks_.back().length == ChunkPool::kChunkSize) chunks_.push_back({pool_.take(), 0});
    Chunk& tail = chunks_.back();
    std::size_t take = std::min(data.size(), ChunkPool::kChunkSize - tail.length);
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
    if (sent == 0) return true;
    auto remaining = static_cast<std::size_t>(sent);
    size_ -= remaining;
    while (remaining > 0) {
      std::size_t inHead = chunks_.front().length - offset_;
      if (remaining < inHead) {
        offset_ += remaining;
        break;
      }
      remaining -= inHead;
      popFront();
    }
  }
  clear();  // fully drained: the tail chunk's spare room goes back to the pool too
  return true;
}

std::size_t WriteQueue::takeFront(std::span<char> into) noexcept {
  std::size_t taken = 0;
  while (size_ > 0 && taken < into.size()) {
    const std::size_t inHead = chunks_.front().length - offset_;
    const std::size_t take = std::min(inHead, into.size() - taken);
    std::memcpy(into.data() + taken, chunks_.front().data.get() + offset_, take);
    taken += take;
    size_ -= take;
    if (take == inHead) {
      popFront();
    } else {
      offset_ += take;
    }
  }
  if (size_ == 0) clear();  // drained: the tail chunk's spare room goes back to the pool
  return taken;
}

void WriteQueue::popFront() noexcept {
  pool_.give(std::move(chunks_.front().data));
  chunks_.erase(chunks_.begin());
  offset_ = 0;
}

void WriteQueue::clear() noexcept {
  for (auto& chunk : chunks_) pool_.give(std::move(chunk.data));
  chunks_.clear();
  offset_ = 0;
  size_ = 0;
}

}  // namespace torsion::detail
