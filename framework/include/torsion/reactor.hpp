// Public. Reactor: the event loop.
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/factory.hpp>
#include <torsion/reactor_interfaces.hpp>
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
#include <vector>

namespace torsion {

namespace detail {
class Backend;
class ReactorCore;
struct ReactorAccess;
}  // namespace detail

/// The event loop: waits on many descriptors through one readiness backend (select,
/// poll, epoll, kqueue or an Asio io_context), runs timers, and hands bytes to protocols.
/// To run one on an io_context of your own, see attachToIoContext (asio_reactor.hpp).
///
/// There is no global reactor: a Reactor is a plain object, and several may live in
/// one process, each driven by one thread. Only callFromThread may be called from
/// other threads; every other method belongs to the thread that runs the reactor (or,
/// before run, to the thread that created it).
///
/// @code
/// torsion::Reactor reactor;   // best backend here; TORSION_REACTOR=poll picks another
/// reactor.listenTCP(8000, torsion::Factory::forProtocol<Echo>());
/// reactor.run();              // until reactor.stop(), SIGINT or SIGTERM
/// @endcode
///
/// It implements Twisted's reactor interfaces (IReactorCore, IReactorTime, IReactorTCP,
/// IReactorUNIX, IReactorUDP, IReactorThreads, IReactorFDSet): code that takes the
/// narrowest of them can be tested with testing::MemoryReactor instead.
///
/// Thread safety: only callFromThread may be called from other threads; every other method belongs to the thread that
/// runs the reactor (before run, the thread that made it).
class Reactor : public IReactorCore,
                public IReactorTime,
                public IReactorTCP,
                public IReactorUNIX,
                public IReactorUDP,
                public IReactorThreads,
                public IReactorFDSet {
 public:
  /// Creates a reactor on the named backend: "select", "poll", "epoll", "kqueue", "asio". An
  /// empty name means the TORSION_REACTOR environment variable if set, else
  /// defaultBackend().
  /// @throws UnsupportedBackendError if the backend is not built here; the message
  /// lists the ones that are.
  explicit Reactor(std::string_view backend = {});

  /// Closes every connection still open (protocols see connectionLost with
  /// ConnectionLost) and every listening port, then releases the backend.
  ~Reactor() override;

  Reactor(const Reactor&) = delete;             ///< Not copyable.
  Reactor& operator=(const Reactor&) = delete;  ///< Not copyable.

  /// The backends this build has, best first.
  static std::vector<std::string> availableBackends();

  /// The backend used when none is named and TORSION_REACTOR is unset: epoll on
  /// Linux, kqueue on BSD and macOS, poll elsewhere.
  static std::string defaultBackend();

  /// The name of this reactor's backend.
  const std::string& backendName() const noexcept;

  /// Runs the loop until stop(): fires the "startup" system event, runs calls queued
  /// by callWhenRunning, loops, and fires the "shutdown" event's triggers before
  /// returning. A reactor may be run again after it returns.
  /// @param installSignalHandlers when true, SIGINT and SIGTERM stop this reactor
  /// cleanly while it runs (only one reactor per process may own them; the previous
  /// handlers are restored when run returns).
  void run(bool installSignalHandlers = true) override;

  /// Asks the loop to finish: the current iteration completes, shutdown triggers run,
  /// then run() returns. Safe inside any callback.
  /// @throws ReactorNotRunning if the reactor is not running or already stopping.
  void stop() override;

  /// Runs one pass of the loop: due timers and thread calls, then waits at most
  /// `timeoutSeconds` for I/O and dispatches it. Useful in tests and to embed the
  /// reactor in another loop.
  void iterate(double timeoutSeconds = 0);

  /// True between the start of run() and its return (and false once stopping).
  bool running() const noexcept override;

  /// Seconds on a monotonic clock.
  double seconds() const override;

  /// Schedules `fn` to run after `delaySeconds` (see IReactorTime::callLater). Timers
  /// never starve I/O: a call scheduled from a timer with delay 0 waits for the next
  /// pass, after the I/O of this one.
  DelayedCall callLater(double delaySeconds, std::function<void()> fn) override;

  /// The calls still scheduled, soonest first.
  std::vector<DelayedCall> getDelayedCalls() const override;

  /// Runs `fn` once the reactor is running: at once if it already is, else at the
  /// start of run().
  void callWhenRunning(std::function<void()> fn) override;

  /// Runs `fn` on the reactor's thread at the next pass of its loop, waking the loop
  /// if it is asleep. Calls from one thread run in the order they were made.
  /// Thread-safe: the one method any thread may call.
  void callFromThread(std::function<void()> fn) override;

  /// Runs `fn` on the reactor's thread pool (started on first use, at most
  /// suggestThreadPoolSize threads, 10 by default). Report back with callFromThread.
  /// Exceptions escaping `fn` are logged.
  void callInThread(std::function<void()> fn) override;

  /// Sets the largest number of threads the pool may start.
  /// @throws std::invalid_argument if `maxThreads` is 0.
  void suggestThreadPoolSize(std::size_t maxThreads) override;

  /// Adds a trigger for a system event: "startup" (fired by run) or "shutdown" (fired
  /// by stop), or any name passed to fireSystemEvent. Triggers run before, during or
  /// after the event, in the order they were added within a phase, and are removed
  /// once they have run.
  TriggerId addSystemEventTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn) override;

  /// Removes a trigger that has not run yet.
  /// @throws std::invalid_argument if no such trigger is pending.
  void removeSystemEventTrigger(TriggerId id) override;

  /// Runs the triggers of `eventType`: all 'before', then all 'during', then all
  /// 'after'.
  void fireSystemEvent(std::string_view eventType) override;

  /// Watches `selectable` for readability until removeReader or removeAll.
  /// @throws BackendLimitError if the backend cannot watch this descriptor (select and
  /// a descriptor at or above FD_SETSIZE).
  void addReader(Selectable& selectable) override;

  /// Watches `selectable` for writability until removeWriter or removeAll.
  /// @throws BackendLimitError as addReader.
  void addWriter(Selectable& selectable) override;

  /// Stops watching for readability (no effect if not watched).
  void removeReader(Selectable& selectable) override;

  /// Stops watching for writability (no effect if not watched).
  void removeWriter(Selectable& selectable) override;

  /// Stops watching `selectable` altogether. Events already collected for it in the
  /// current pass are dropped, even if its descriptor number is reused at once.
  void removeAll(Selectable& selectable) override;

  /// Listens for TCP connections and builds a protocol with `factory` for each.
  /// @param port the port; 0 lets the system pick (see ListeningPort::getHost).
  /// @param factory builds the protocols; its doStart is called now.
  /// @param backlog the listen() backlog.
  /// @param interface the address to bind: "" for all IPv4 addresses, "::" for all
  /// IPv6 (and IPv4 where dual-stack), "127.0.0.1", "::1", ..., or a host name such as
  /// "localhost", resolved at once (its first IPv4 address if it has one).
  /// @throws CannotListenError naming the address and the reason (port in use, a host
  /// name that does not resolve, ...).
  std::shared_ptr<ListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog = 50,
                                           std::string_view interface = {}) override;

  /// Connects to `host`:`port` with TCP. A host name is resolved on the thread pool,
  /// never blocking the loop; numeric IPv4 and IPv6 addresses are used as they are.
  /// The factory's startedConnecting is called at once, then either buildProtocol and
  /// the protocol's connectionMade, or clientConnectionFailed.
  /// @param host a numeric IPv4 or IPv6 address, or a host name.
  /// @param port the port to connect to.
  /// @param factory builds the protocol and hears how the attempt went; its doStart is
  /// called now.
  /// @param timeout seconds before the attempt fails with TimeoutError.
  /// @param bindAddress the local address to bind before connecting, if any.
  std::shared_ptr<Connector> connectTCP(std::string_view host, std::uint16_t port,
                                        std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                        std::optional<Address> bindAddress = std::nullopt) override;

  /// Listens on a Unix domain stream socket at `path`. A stale socket file (one that
  /// nobody accepts on) is replaced; the file is removed by stopListening.
  /// @throws CannotListenError if the path is in use by a live server, too long, or
  /// cannot be bound.
  std::shared_ptr<ListeningPort> listenUNIX(std::string_view path, std::shared_ptr<Factory> factory,
                                            int backlog = 50) override;

  /// Connects to the Unix domain stream socket at `path`; the factory is told as for
  /// connectTCP.
  std::shared_ptr<Connector> connectUNIX(std::string_view path, std::shared_ptr<ClientFactory> factory,
                                         double timeout = 30) override;

  /// Opens a UDP socket on `port` (0: the system picks) and hands its datagrams to
  /// `protocol`, whose startProtocol runs at once.
  /// @param port the port to bind; 0 lets the system pick (see getHost).
  /// @param protocol receives the datagrams; the reactor keeps it while the port is open.
  /// @param interface the address to bind: "" for all IPv4, "::" for all IPv6, a numeric
  /// address or a host name (resolved at once, as for listenTCP).
  /// @param maxPacketSize the largest datagram delivered (at most 65536); a longer one is
  /// dropped with a warning in the log, never delivered cut.
  /// @throws CannotListenError naming the address and the reason.
  std::shared_ptr<DatagramTransport> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                               std::string_view interface = {},
                                               std::size_t maxPacketSize = 8192) override;

 private:
  // torsion's own code reaches the core, and builds a reactor on a backend it made
  // (attachToIoContext), through detail::ReactorAccess; neither is part of the API.
  friend struct detail::ReactorAccess;
  explicit Reactor(std::unique_ptr<detail::Backend> backend);

  std::unique_ptr<detail::ReactorCore> core_;
};

}  // namespace torsion
