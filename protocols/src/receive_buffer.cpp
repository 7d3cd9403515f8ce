#include <torsion/protocols/detail/receive_buffer.hpp>

#include <cstdint>

namespace torsion::protocols::detail {

namespace {
// A buffer left empty at the end of a pass gives back capacity above this, so that one
// large message does not pin its size on an idle connection for good, while the usual
// traffic of small messages reuses the same memory without allocating.
constexpr std::size_t kRetainedCapacity = 64 * 1024;
}  // namespace

bool ReceiveBuffer::begin(Bytes data) {
  if (busy_) {
    // Parsed after the running pass's input, in arrival order; never written into
    // buffer_, which the running pass's views point into.
    pending_.append(data);
    return false;
  }
  busy_ = true;
  used_ = 0;
  if (buffer_.empty()) {
    view_ = data;
    external_ = true;
  } else {
    buffer_.append(data);
    view_ = buffer_;
    external_ = false;
  }
  return true;
}

void ReceiveBuffer::stash() {
  if (external_) {
    buffer_.assign(view_.substr(used_));
  } else {
    buffer_.erase(0, used_);
  }
  view_ = {};
  used_ = 0;
  external_ = false;
}

bool ReceiveBuffer::refill() {
  if (pending_.empty()) return false;
  stash();
  buffer_.append(pending_);
  pending_.clear();
  view_ = buffer_;
  return true;
}

void ReceiveBuffer::end() {
  stash();
  if (!pending_.empty()) {
    buffer_.append(pending_);
    pending_.clear();
  }
  busy_ = false;
  if (buffer_.empty() && buffer_.capacity() > kRetainedCapacity) std::string().swap(buffer_);
  if (pending_.capacity() > kRetainedCapacity) std::string().swap(pending_);
}

void ReceiveBuffer::giveBack(Bytes bytes) {
  if (bytes.empty()) return;
  const auto start = reinterpret_cast<std::uintptr_t>(view_.data());
  const auto first = reinterpret_cast<std::uintptr_t>(bytes.data());
  // With everything before parsed and nothing queued, "parse these next" is the same as
  // "these were never parsed": just move the cursor back.
  if (used_ == view_.size() && pending_.empty() && first >= start && first + bytes.size() == start + view_.size()) {
    used_ = static_cast<std::size_t>(first - start);
    return;
  }
  pending_.append(bytes);
}

std::string ReceiveBuffer::takeAll() {
  std::string taken;
  if (busy_) {
    // Views handed to the running callback point into this input: only mark it parsed.
    taken.assign(unconsumed());
    consumeAll();
  } else {
    taken.assign(buffer_);
    buffer_.clear();
  }
  taken.append(pending_);
  pending_.clear();
  return taken;
}

void ReceiveBuffer::discardAll() noexcept {
  if (busy_) {
    consumeAll();
  } else {
    buffer_.clear();
  }
  pending_.clear();
}

std::size_t ReceiveBuffer::size() const noexcept {
  return (busy_ ? unconsumed().size() : buffer_.size()) + pending_.size();
}

}  // namespace torsion::protocols::detail
