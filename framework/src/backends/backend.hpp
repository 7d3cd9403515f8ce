// Internal. Backend: the readiness syscall core (add / modify / remove / wait). Everything
// the backends share lives once in the reactor; a backend holds only what its syscall needs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../system_error.hpp"
#include "loop_driver.hpp"

namespace torsion::detail {

/// Interest and readiness bits.
enum : std::uint8_t { kReadable = 1, kWritable = 2 };

/// One descriptor reported ready by a wait. Errors and hang-ups are reported as both
/// readable and writable; the reactor hands them to whichever handler is interested.
struct ReadyEvent {
  int fd;
  std::uint8_t events;
  /// A socket error that the wait itself consumed, 0 if none. libkqueue on Linux reads
  /// (and so clears) SO_ERROR to report it in EV_EOF's fflags: unless it travels on from
  /// here, a refused connect or a reset looks like a clean close to the transport.
  int error = 0;
};

/// Level-triggered readiness for a set of descriptors. The reactor tells a backend only
/// of real changes: add when interest goes from none to some, modify when it changes,
/// remove when it goes back to none; so backends keep no interest cache of their own.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const noexcept = 0;
  /// @throws BackendLimitError if this descriptor cannot be watched.
  virtual void add(int fd, std::uint8_t interest) = 0;
  virtual void modify(int fd, std::uint8_t oldInterest, std::uint8_t interest) = 0;
  virtual void remove(int fd, std::uint8_t oldInterest) = 0;
  /// Waits up to timeoutMs (negative: forever) and appends ready descriptors to `out`
  /// (which the caller cleared). EINTR returns with nothing ready.
  virtual void wait(int timeoutMs, std::vector<ReadyEvent>& out) = 0;

  // A backend that an outside loop drives (Asio on a user's io_context) runs the
  // reactor's passes itself and needs these; the others keep the defaults.
  /// Called once by the reactor that owns this backend, before its first add: the
  /// loop operations the backend may call (and nothing else of the reactor).
  virtual void bind(LoopDriver& driver) { (void)driver; }
  /// Reactor::run: runs the outside loop, which runs the passes, until the reactor
  /// stops, and returns true; false (the default) lets the reactor run its own loop.
  virtual bool runLoop(bool installSignalHandlers) {
    (void)installSignalHandlers;
    return false;
  }
  /// Work appeared that needs a pass (a stop, a soon call, an earlier timer).
  virtual void wakeUp() {}
};

std::unique_ptr<Backend> makeSelectBackend();
std::unique_ptr<Backend> makePollBackend();
std::unique_ptr<Backend> makeEpollBackend();
std::unique_ptr<Backend> makeKqueueBackend();
std::unique_ptr<Backend> makeAsioBackend();  // on its own io_context
/// io_uring where this process may use it, else epoll (with a log line saying why).
std::unique_ptr<Backend> makeIoUringBackend();
/// Whether io_uring can be set up in this process (probed once).
bool ioUringUsable();

/// The backend of that name; an empty name means TORSION_REACTOR or the default.
/// @throws UnsupportedBackendError listing the available ones.
std::unique_ptr<Backend> makeBackend(std::string_view name);
std::vector<std::string> availableBackendNames();
std::string defaultBackendName();

}  // namespace torsion::detail
