// Public. Twisted's reactor interfaces: what code that needs a reactor should take, so
// that tests can hand it a testing::MemoryReactor instead of real sockets.
#pragma once

#include <torsion/address.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/factory.hpp>
#include <torsion/selectable.hpp>
#include <torsion/transport.hpp>
#include <torsion/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace torsion {

/// The phase of a system event in which a trigger runs (Twisted's 'before', 'during',
/// 'after').
enum class EventPhase { before, during, after };

/// A system event trigger that has not run yet, as a reactor keeps it (see
/// IReactorCore::addSystemEventTrigger); testing::MemoryReactor shows its list.
///
/// Thread safety: plain data; the reactor that keeps it uses it on its own thread.
struct SystemEventTrigger {
  std::uint64_t id;          ///< what addSystemEventTrigger returned
  EventPhase phase;          ///< before, during or after
  std::string eventType;     ///< "startup", "shutdown", ...
  std::function<void()> fn;  ///< what to run
};

/// Running, stopping and system events (Twisted's IReactorCore).
///
/// Thread safety: every method belongs to the thread that runs the reactor.
class IReactorCore {
 public:
  /// Identifies a trigger added with addSystemEventTrigger.
  using TriggerId = std::uint64_t;

  virtual ~IReactorCore() = default;

  /// Runs the loop until stop() (see Reactor::run).
  /// @param installSignalHandlers when true, SIGINT and SIGTERM stop the reactor.
  virtual void run(bool installSignalHandlers = true) = 0;

  /// Asks the loop to finish; shutdown triggers run, then run() returns.
  /// @throws ReactorNotRunning if the reactor is not running or already stopping.
  virtual void stop() = 0;

  /// True between the start of run() and its return (and false once stopping).
  virtual bool running() const noexcept = 0;

  /// Runs `fn` once the reactor is running: at once if it already is, else at the
  /// start of run().
  virtual void callWhenRunning(std::function<void()> fn) = 0;

  /// Adds a trigger for a system event ("startup", "shutdown" or any name passed to
  /// fireSystemEvent), run in `phase`, in the order added within a phase.
  virtual TriggerId addSystemEventTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn) = 0;

  /// Removes a trigger that has not run yet.
  /// @throws std::invalid_argument if no such trigger is pending.
  virtual void removeSystemEventTrigger(TriggerId id) = 0;

  /// Runs the triggers of `eventType`: all 'before', then all 'during', then all 'after'.
  virtual void fireSystemEvent(std::string_view eventType) = 0;

 protected:
  IReactorCore() = default;
  IReactorCore(const IReactorCore&) = default;             ///< For implementations only.
  IReactorCore& operator=(const IReactorCore&) = default;  ///< For implementations only.
};

/// TCP listening and connecting (Twisted's IReactorTCP).
///
/// Thread safety: every method belongs to the thread that runs the reactor.
class IReactorTCP {
 public:
  virtual ~IReactorTCP() = default;

  /// Listens for TCP connections and builds a protocol with `factory` for each (see
  /// Reactor::listenTCP for the parameters).
  /// @throws CannotListenError naming the address and the reason.
  virtual std::shared_ptr<ListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                                   int backlog = 50, std::string_view interface = {}) = 0;

  /// Connects to `host`:`port` (see Reactor::connectTCP for the parameters); the factory
  /// hears how the attempt went.
  virtual std::shared_ptr<Connector> connectTCP(std::string_view host, std::uint16_t port,
                                                std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                                std::optional<Address> bindAddress = std::nullopt) = 0;

 protected:
  IReactorTCP() = default;
  IReactorTCP(const IReactorTCP&) = default;             ///< For implementations only.
  IReactorTCP& operator=(const IReactorTCP&) = default;  ///< For implementations only.
};

/// Unix domain stream sockets (Twisted's IReactorUNIX).
///
/// Thread safety: every method belongs to the thread that runs the reactor.
class IReactorUNIX {
 public:
  virtual ~IReactorUNIX() = default;

  /// Listens on a Unix domain stream socket at `path` (see Reactor::listenUNIX).
  /// @throws CannotListenError if the path is in use, too long, or cannot be bound.
  virtual std::shared_ptr<ListeningPort> listenUNIX(std::string_view path, std::shared_ptr<Factory> factory,
                                                    int backlog = 50) = 0;

  /// Connects to the Unix domain stream socket at `path` (see Reactor::connectUNIX).
  virtual std::shared_ptr<Connector> connectUNIX(std::string_view path, std::shared_ptr<ClientFactory> factory,
                                                 double timeout = 30) = 0;

 protected:
  IReactorUNIX() = default;
  IReactorUNIX(const IReactorUNIX&) = default;             ///< For implementations only.
  IReactorUNIX& operator=(const IReactorUNIX&) = default;  ///< For implementations only.
};

/// UDP sockets (Twisted's IReactorUDP).
///
/// Thread safety: every method belongs to the thread that runs the reactor.
class IReactorUDP {
 public:
  virtual ~IReactorUDP() = default;

  /// Opens a UDP socket on `port` and hands its datagrams to `protocol` (see
  /// Reactor::listenUDP).
  /// @throws CannotListenError naming the address and the reason.
  virtual std::shared_ptr<DatagramTransport> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                                       std::string_view interface = {},
                                                       std::size_t maxPacketSize = 8192) = 0;

 protected:
  IReactorUDP() = default;
  IReactorUDP(const IReactorUDP&) = default;             ///< For implementations only.
  IReactorUDP& operator=(const IReactorUDP&) = default;  ///< For implementations only.
};

/// Calls between the reactor's thread and others (Twisted's IReactorThreads).
///
/// Thread safety: callFromThread may be called from any thread; callInThread and suggestThreadPoolSize only from the
/// thread that runs the reactor.
class IReactorThreads {
 public:
  virtual ~IReactorThreads() = default;

  /// Runs `fn` on the reactor's thread at its next pass, waking it if asleep.
  /// Thread safety: any thread may call it.
  virtual void callFromThread(std::function<void()> fn) = 0;

  /// Runs `fn` on the reactor's thread pool. Thread safety: the reactor's thread only.
  virtual void callInThread(std::function<void()> fn) = 0;

  /// Sets the largest number of threads the pool may start.
  /// @throws std::invalid_argument if `maxThreads` is 0.
  virtual void suggestThreadPoolSize(std::size_t maxThreads) = 0;

 protected:
  IReactorThreads() = default;
  IReactorThreads(const IReactorThreads&) = default;             ///< For implementations only.
  IReactorThreads& operator=(const IReactorThreads&) = default;  ///< For implementations only.
};

/// Watching descriptors directly (Twisted's IReactorFDSet).
///
/// Thread safety: every method belongs to the thread that runs the reactor.
class IReactorFDSet {
 public:
  virtual ~IReactorFDSet() = default;

  /// Watches `selectable` for readability until removeReader or removeAll.
  virtual void addReader(Selectable& selectable) = 0;
  /// Watches `selectable` for writability until removeWriter or removeAll.
  virtual void addWriter(Selectable& selectable) = 0;
  /// Stops watching for readability (no effect if not watched).
  virtual void removeReader(Selectable& selectable) = 0;
  /// Stops watching for writability (no effect if not watched).
  virtual void removeWriter(Selectable& selectable) = 0;
  /// Stops watching `selectable` altogether.
  virtual void removeAll(Selectable& selectable) = 0;

 protected:
  IReactorFDSet() = default;
  IReactorFDSet(const IReactorFDSet&) = default;             ///< For implementations only.
  IReactorFDSet& operator=(const IReactorFDSet&) = default;  ///< For implementations only.
};

}  // namespace torsion
