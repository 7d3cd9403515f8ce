// select(2): portable everywhere, O(highest descriptor) per wait, and limited to
// descriptors below FD_SETSIZE; a larger one would write past the fd_set, so it is refused.
#include <sys/select.h>

#include <torsion/errors.hpp>

#include <cerrno>
#include <string>

#include "backend.hpp"

namespace torsion::detail {

namespace {

class SelectBackend final : public Backend {
 public:
  SelectBackend() {
    FD_ZERO(&readers_);
    FD_ZERO(&writers_);
  }

  const char* name() const noexcept override { return "select"; }

  void add(int fd, std::uint8_t interest) override {
    if (fd < 0 || fd >= FD_SETSIZE) {
      throw BackendLimitError("select backend cannot watch descriptor " + std::to_string(fd) +
                              ": select() only handles descriptors below FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
                              "); use the poll or epoll backend for more connections");
    }
    modify(fd, 0, interest);
  }

  void modify(int fd, std::uint8_t, std::uint8_t interest) override {
    if (interest & kReadable)
      FD_SET(fd, &readers_);
    else
      FD_CLR(fd, &readers_);
    if (interest & kWritable)
      FD_SET(fd, &writers_);
    else
      FD_CLR(fd, &writers_);
    if (interest != 0 && fd > maxFd_) maxFd_ = fd;
  }

  void remove(int fd, std::uint8_t) override {
    FD_CLR(fd, &readers_);
    FD_CLR(fd, &writers_);
    while (maxFd_ >= 0 && !FD_ISSET(maxFd_, &readers_) && !FD_ISSET(maxFd_, &writers_)) --maxFd_;
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    fd_set readable = readers_;
    fd_set writable = writers_;
    timeval timeout{};
    timeval* timeoutPointer = nullptr;
    if (timeoutMs >= 0) {
      timeout.tv_sec = timeoutMs / 1000;
      timeout.tv_usec = (timeoutMs % 1000) * 1000;
      timeoutPointer = &timeout;
    }
    int ready = ::select(maxFd_ + 1, &readable, &writable, nullptr, timeoutPointer);
    if (ready < 0) {
      if (errno == EINTR) return;
      throwSystemError("select");
    }
    for (int fd = 0; fd <= maxFd_ && ready > 0; ++fd) {
      std::uint8_t events = 0;
      if (FD_ISSET(fd, &readable)) events |= kReadable;
      if (FD_ISSET(fd, &writable)) events |= kWritable;
      if (events) {
        out.push_back({fd, events});
        --ready;
      }
    }
  }

 private:
  fd_set readers_;
  fd_set writers_;
  int maxFd_ = -1;
};

}  // namespace

std::unique_ptr<Backend> makeSelectBackend() { return std::make_unique<SelectBackend>(); }

}  // namespace torsion::detail
