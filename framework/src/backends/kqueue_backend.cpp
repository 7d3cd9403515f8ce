// kqueue(2) (BSD, macOS; on Linux through libkqueue): one filter per direction,
// level-triggered (no EV_CLEAR), so it behaves like the other backends.
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

#include "backend.hpp"

#if defined(TORSION_HAVE_LIBKQUEUE_DRAIN)
// Exported by libkqueue since 2.7 but not declared by its header; CMake checked that
// the library in use has it.
extern "C" void libkqueue_drain_pending_close(void);
#endif

namespace torsion::detail {

namespace {

class KqueueBackend final : public Backend {
 public:
  KqueueBackend() : kqueueFd_(::kqueue()) {
    if (kqueueFd_ < 0) throwSystemError("kqueue");
    events_.resize(256);
  }
  ~KqueueBackend() override {
    ::close(kqueueFd_);
#if defined(TORSION_HAVE_LIBKQUEUE_DRAIN)
    // libkqueue frees the descriptors behind a closed kqueue about 50 ms later, on a
    // thread of its own. Wait for that here, so that a destroyed reactor has given back
    // every descriptor it took, as on the other backends, instead of descriptors coming
    // free at a random moment later.
    libkqueue_drain_pending_close();
#endif
  }
  KqueueBackend(const KqueueBackend&) = delete;
  KqueueBackend& operator=(const KqueueBackend&) = delete;

  const char* name() const noexcept override { return "kqueue"; }

  void add(int fd, std::uint8_t interest) override { modify(fd, 0, interest); }

  void modify(int fd, std::uint8_t oldInterest, std::uint8_t interest) override {
    struct kevent changes[2];
    int count = 0;
    auto change = [&](std::uint8_t bit, short filter) {
      if ((oldInterest & bit) == (interest & bit)) return;
      EV_SET(&changes[count++], static_cast<uintptr_t>(fd), filter,
             static_cast<unsigned short>((interest & bit) ? EV_ADD : EV_DELETE), 0, 0, nullptr);
    };
    change(kReadable, EVFILT_READ);
    change(kWritable, EVFILT_WRITE);
    if (count > 0 && ::kevent(kqueueFd_, changes, count, nullptr, 0, nullptr) < 0 &&
        (interest != 0 || errno != ENOENT)) {
      throwSystemError("kevent(change)");
    }
  }

  void remove(int fd, std::uint8_t oldInterest) override {
    try {
      modify(fd, oldInterest, 0);
    } catch (...) {
      // Already closed descriptors were dropped by the kernel; nothing left to remove.
    }
  }

  void wait(int timeoutMs, std::vector<ReadyEvent>& out) override {
    timespec timeout{};
    timespec* timeoutPointer = nullptr;
    if (timeoutMs >= 0) {
      timeout.tv_sec = timeoutMs / 1000;
      timeout.tv_nsec = static_cast<long>(timeoutMs % 1000) * 1000000L;
      timeoutPointer = &timeout;
    }
    int ready = ::kevent(kqueueFd_, nullptr, 0, events_.data(), static_cast<int>(events_.size()), timeoutPointer);
    if (ready < 0) {
      if (errno == EINTR) return;
      throwSystemError("kevent(wait)");
    }
    for (int i = 0; i < ready; ++i) {
      const struct kevent& event = events_[static_cast<std::size_t>(i)];
      std::uint8_t flags = event.filter == EVFILT_WRITE ? kWritable : kReadable;
      if (event.flags & (EV_EOF | EV_ERROR)) flags |= kReadable | kWritable;
      // On EOF, fflags holds the socket's error. libkqueue read it from SO_ERROR, which
      // that read cleared, so this event is the only place left that knows it.
      const int error = (event.flags & EV_EOF) ? static_cast<int>(event.fflags) : 0;
      out.push_back({static_cast<int>(event.ident), flags, error});
    }
    if (static_cast<std::size_t>(ready) == events_.size() && events_.size() < 4096) events_.resize(events_.size() * 2);
  }

 private:
  int kqueueFd_;
  std::vector<struct kevent> events_;
};

}  // namespace

std::unique_ptr<Backend> makeKqueueBackend() { return std::make_unique<KqueueBackend>(); }

}  // namespace torsion::detail
