// Internal. Backend: the readiness syscall core (add / modify / remove / wait). Everything
// the backends share lives once in the reactor; a backend holds only what its syscall needs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../system_error.hpp"
#include "loop_driver.hpp"

namespace torsion::detail {

/// Interest and readiness bits. kReceived marks a completed receive and kSent a
/// completed send (see Backend::completesReceives), never an interest.
enum : std::uint8_t { kReadable = 1, kWritable = 2, kReceived = 4, kSent = 8 };

/// What a completed receive carries besides its descriptor.
enum : std::uint8_t {
  kReceiveHoldsBuffer = 1,  ///< `buffer` names a backend buffer: hand it back (Backend::recycle)
  kReceiveContinues = 2,    ///< the receive stays armed: more completions follow
};

/// One descriptor reported ready by a wait. Errors and hang-ups are reported as both
/// readable and writable; the reactor hands them to whichever handler is interested.
struct ReadyEvent {
  int fd;
  std::uint8_t events;
  /// A socket error that the wait itself consumed, 0 if none. libkqueue on Linux reads
  /// (and so clears) SO_ERROR to report it in EV_EOF's fflags: unless it travels on from
  /// here, a refused connect or a reset looks like a clean close to the transport.
  int error = 0;
  // A completed receive (events == kReceived): bytes received (> 0), 0 for the end of
  // the stream, or a negative errno; the buffer holding the bytes; kReceive* flags.
  // A completed send (events == kSent): the bytes sent (all of them), or a negative errno.
  int result = 0;
  std::uint16_t buffer = 0;
  std::uint8_t receive = 0;
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

  // The completion path for stream sockets (io_uring): the kernel receives into the
  // backend's buffers and `wait` reports each receive as a kReceived event, so a
  // receive costs no system call of its own. A backend without one keeps the defaults
  // and the transports use readiness.
  /// Whether armReceive and the rest below are offered.
  virtual bool completesReceives() const noexcept { return false; }
  /// Starts receiving on `fd` until the stream ends, an error, or cancelReceive; each
  /// receive is reported by a later wait. Submitted with the next wait.
  virtual void armReceive(int fd) { (void)fd; }
  /// Asks the kernel to stop receiving on `fd` (pauseProducing). Completions already on
  /// their way are still reported, the last one without kReceiveContinues.
  virtual void cancelReceive(int fd) { (void)fd; }
  /// Stops receiving on `fd` for good, before the caller closes it: nothing more is
  /// reported for this receive, and its buffers come back to the backend by themselves.
  virtual void dropReceive(int fd) { (void)fd; }
  /// The bytes of a kReceived event that holds a buffer: valid until recycle(buffer).
  virtual const char* receivedData(std::uint16_t buffer) const noexcept {
    (void)buffer;
    return nullptr;
  }
  /// Gives a buffer of a kReceived event back for the kernel to receive into again.
  virtual void recycle(std::uint16_t buffer) { (void)buffer; }

  // Sends on the completion path: the bytes are copied into one of the backend's send
  // buffers and sent by the kernel with the next wait, no send system call of its own;
  // a later wait reports the send as a kSent event once every byte is sent, or failed.
  // A buffer is the backend's until the kernel is done with it, so the sender may go
  // away at any time (dropSend). One send in flight per descriptor.
  /// Whether sendBuffer and the rest below are offered.
  virtual bool completesSends() const noexcept { return false; }
  /// A free send buffer to fill, reserved for the next submitSend; empty if none is
  /// free now (the caller sends by itself).
  virtual std::span<char> sendBuffer() { return {}; }
  /// Sends the first `length` bytes of the buffer sendBuffer just gave, on `fd`.
  virtual void submitSend(int fd, std::size_t length) {
    (void)fd;
    (void)length;
  }
  /// Gives up the send in flight on `fd` before the caller closes it: its completion is
  /// not reported, and its buffer comes back to the backend by itself.
  virtual void dropSend(int fd) { (void)fd; }
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
