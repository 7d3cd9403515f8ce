// epoll(7), level-triggered: the kernel keeps the interest set and returns only ready
// descriptors, so a wait costs O(ready), not O(watched).
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "backend.hpp"

namespace torsion::detail {

namespace {

std::uint32_t toEpollEvents(std::uint8_t interest) {
  std::uint32_t events = 0;
  if (interest & kReadable) events |= EPOLLIN | EPOLLRDHUP;
  if (interest & kWritable) events |= EPOLLOUT;
  return events;
}

class EpollBackend final : public Backend {
 public:
  EpollBackend() : epollFd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epollFd_ < 0) throwSystemError("epoll_create1");
    events_.resize(256);
  }
  ~EpollBackend() override { ::close(epollFd_); }
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  const char* name() const noexcept override { return "epoll"; }

  void add(int fd, std::uint8_t interest) override { control(EPOLL_CTL_ADD, fd, interest, "epoll_ctl(ADD)"); }

  void modify(int fd, std::uint8_t, std::uint8_t interest) override {
    control(EPOLL_CTL_MOD, fd, interest, "epoll_ctl(MOD)");
  }

  void remove(int fd, std::uint8_t) override {
    // Failure here means the descriptor is already closed, which also removed it.
    ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    int ready = ::epoll_wait(epollFd_, events_.data(), static_cast<int>(events_.size()), timeoutMs);
    if (ready < 0) {
      if (errno == EINTR) return;
      throwSystemError("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      const epoll_event& event = events_[static_cast<std::size_t>(i)];
      std::uint8_t flags = 0;
      if (event.events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) flags |= kReadable;
      if (event.events & EPOLLOUT) flags |= kWritable;
      if (event.events & (EPOLLERR | EPOLLHUP)) flags |= kReadable | kWritable;
      out.push_back({event.data.fd, flags});
    }
    // A full batch suggests more are ready: take more next time (bounded).
    if (static_cast<std::size_t>(ready) == events_.size() && events_.size() < 4096) events_.resize(events_.size() * 2);
  }

 private:
  void control(int operation, int fd, std::uint8_t interest, const char* what) {
    epoll_event event{};
    event.events = toEpollEvents(interest);
    event.data.fd = fd;
    if (::epoll_ctl(epollFd_, operation, fd, &event) < 0) throwSystemError(what);
  }

  int epollFd_;
  std::vector<epoll_event> events_;
};

}  // namespace

std::unique_ptr<Backend> makeEpollBackend() { return std::make_unique<EpollBackend>(); }

}  // namespace torsion::detail
