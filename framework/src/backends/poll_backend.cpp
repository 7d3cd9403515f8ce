// poll(2): no descriptor limit, but the kernel scans the whole array on every wait, so its
// cost grows with the number of idle connections.
#include <poll.h>

#include <cerrno>

#include "backend.hpp"

namespace torsion::detail {

namespace {

short toPollEvents(std::uint8_t interest) {
  short events = 0;
  if (interest & kReadable) events |= POLLIN;
  if (interest & kWritable) events |= POLLOUT;
  return events;
}

class PollBackend final : public Backend {
 public:
  const char* name() const noexcept override { return "poll"; }

  void add(int fd, std::uint8_t interest) override {
    if (static_cast<std::size_t>(fd) >= slotOf_.size()) slotOf_.resize(static_cast<std::size_t>(fd) + 1, -1);
    slotOf_[static_cast<std::size_t>(fd)] = static_cast<int>(entries_.size());
    entries_.push_back({fd, toPollEvents(interest), 0});
  }

  void modify(int fd, std::uint8_t, std::uint8_t interest) override {
    entries_[static_cast<std::size_t>(slotOf_[static_cast<std::size_t>(fd)])].events = toPollEvents(interest);
  }

  void remove(int fd, std::uint8_t) override {
    // Swap with the last entry so removal is O(1) and the array stays dense.
    auto slot = static_cast<std::size_t>(slotOf_[static_cast<std::size_t>(fd)]);
    entries_[slot] = entries_.back();
    slotOf_[static_cast<std::size_t>(entries_[slot].fd)] = static_cast<int>(slot);
    entries_.pop_back();
    slotOf_[static_cast<std::size_t>(fd)] = -1;
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    int ready = ::poll(entries_.data(), entries_.size(), timeoutMs);
    if (ready < 0) {
      if (errno == EINTR) return;
      throwSystemError("poll");
    }
    for (const pollfd& entry : entries_) {
      if (ready == 0) break;
      if (entry.revents == 0) continue;
      --ready;
      std::uint8_t events = 0;
      if (entry.revents & (POLLIN | POLLPRI)) events |= kReadable;
      if (entry.revents & POLLOUT) events |= kWritable;
      if (entry.revents & (POLLERR | POLLHUP | POLLNVAL)) events |= kReadable | kWritable;
      out.push_back({entry.fd, events});
    }
  }

 private:
  std::vector<pollfd> entries_;
  std::vector<int> slotOf_;  // descriptor -> index in entries_, -1 if absent
};

}  // namespace

std::unique_ptr<Backend> makePollBackend() { return std::make_unique<PollBackend>(); }

}  // namespace torsion::detail
