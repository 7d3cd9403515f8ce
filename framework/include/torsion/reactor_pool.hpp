// Public. ReactorPool: one reactor per core, each on its own thread, sharing listening
// ports through SO_REUSEPORT.
#pragma once

#include <torsion/factory.hpp>
#include <torsion/reactor.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace torsion {

/// N reactors on N threads, the way muduo, seastar and folly scale a server across
/// cores: each reactor listens on the same port with SO_REUSEPORT, and the kernel
/// spreads incoming connections across their accept queues. A connection then lives on
/// one reactor for its whole life; reactors talk to each other only through
/// Reactor::callFromThread.
///
/// @code
/// torsion::ReactorPool pool;  // one reactor per core, the default backend
/// pool.listenTCP(8000, [](std::size_t, torsion::Reactor&) {
///   return torsion::Factory::forProtocol<Echo>();  // one factory per reactor
/// });
/// pool.run();  // until pool.stop(), SIGINT or SIGTERM
/// @endcode
///
/// Thread safety: stop() and running() may be called from any thread, including the
/// pool's own reactors. Everything else (listenTCP, run, reactor() while running) belongs
/// to the thread that made the pool; while the pool runs, reach reactor(i) only through
/// its callFromThread. Each factory is used by its own reactor's thread only, so a
/// factory needs no locking; state shared between factories does.
class ReactorPool {
 public:
  /// What listenTCP asks for each reactor: a factory of its own for reactor `index`.
  using FactoryMaker = std::function<std::shared_ptr<Factory>(std::size_t index, Reactor& reactor)>;

  /// Makes `size` reactors on `backend` (empty: as Reactor's constructor chooses).
  /// @param size how many reactors; 0 means one per hardware thread
  /// @param backend the backend of every reactor, as for Reactor's constructor
  /// @throws UnsupportedBackendError as Reactor's constructor does
  explicit ReactorPool(std::size_t size = 0, std::string_view backend = {});
  /// Stops the reactors if they still run and waits for their threads.
  ~ReactorPool();
  ReactorPool(const ReactorPool&) = delete;             ///< Not copyable.
  ReactorPool& operator=(const ReactorPool&) = delete;  ///< Not copyable.

  /// How many reactors the pool has.
  std::size_t size() const noexcept { return reactors_.size(); }

  /// Reactor `index` (0 ≤ index < size()). Reactor 0 runs on the thread that calls run().
  Reactor& reactor(std::size_t index) { return *reactors_.at(index); }

  /// Listens on `port` in every reactor, each socket with SO_REUSEPORT so that the
  /// kernel shares the connections among them. Port 0 picks one free port for all. Call
  /// before run().
  /// @param port the port to share; 0 lets the system pick one for all the reactors
  /// @param makeFactory called once per reactor for that reactor's factory (not null)
  /// @param backlog the listen backlog of each socket
  /// @param interface the numeric address to bind; empty means all IPv4 interfaces
  /// @return the listening port of each reactor, in reactor order
  /// @throws CannotListenError if a socket cannot be bound (e.g. the port is taken by a
  ///         socket without SO_REUSEPORT); the ports already opened are closed again
  std::vector<std::shared_ptr<ListeningPort>> listenTCP(std::uint16_t port, const FactoryMaker& makeFactory,
                                                        int backlog = 50, std::string_view interface = {});

  /// Runs every reactor until stop() or, with `installSignalHandlers`, SIGINT or
  /// SIGTERM: reactors 1..N-1 on threads of their own, reactor 0 on the calling thread.
  /// When any reactor stops, all do; run returns once every thread has finished.
  /// @param installSignalHandlers whether reactor 0 catches SIGINT and SIGTERM
  /// @throws std::logic_error if the pool is already running
  void run(bool installSignalHandlers = true);

  /// Asks every reactor to stop; returns at once (run() returns when they have). Safe
  /// from any thread; a stop before run() makes the next run() return at once.
  void stop();

  /// True from run()'s start until every reactor has stopped.
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }

 private:
  /// Queues a stop on every reactor (including the caller's own).
  void stopAll();
  /// On `reactor`'s thread: stops it if a stop is still requested and it runs.
  void stopIfAsked(Reactor& reactor);

  std::vector<std::unique_ptr<Reactor>> reactors_;
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopRequested_{false};
};

}  // namespace torsion
