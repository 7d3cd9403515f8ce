// Public. testing::MemoryReactor: a reactor stand-in that records listens and connects.
#pragma once

#include <torsion/address.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/selectable.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>
#include <torsion/transport.hpp>
#include <torsion/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::testing {

/// A protocol built by a MemoryListeningPort for a simulated incoming connection, and
/// the StringTransport it is connected to.
///
/// Thread safety: use only on the test's thread; it takes no locks.
struct AcceptedConnection {
  std::shared_ptr<Protocol> protocol;          ///< what the factory built
  std::shared_ptr<StringTransport> transport;  ///< its transport, to play the peer
};

/// The ListeningPort returned by MemoryReactor::listenTCP and listenUNIX. It listens on
/// nothing; accept() plays an incoming connection.
///
/// Thread safety: use only on the test's thread; it takes no locks.
class MemoryListeningPort : public ListeningPort {
 public:
  /// A port bound to `host` for `factory`, whose doStart is called now.
  MemoryListeningPort(Address host, std::shared_ptr<Factory> factory);

  /// Stops listening and calls the factory's doStop, once.
  void stopListening() override;

  /// The address given at construction.
  Address getHost() const override { return host_; }

  /// True until stopListening.
  bool listening() const override { return listening_; }

  /// Plays a client connecting from `peer`: the factory builds a protocol, which is
  /// connected to a new StringTransport (connectionMade runs).
  /// @param peer the client's address; by default 192.168.1.1:54321, or an unnamed
  /// Unix socket for a port made by listenUNIX.
  /// @return the protocol and its transport; both null if the factory refused (built
  /// nullptr).
  /// @throws std::logic_error if the port no longer listens.
  AcceptedConnection accept(std::optional<Address> peer = std::nullopt);

  /// The factory given at construction.
  const std::shared_ptr<Factory>& factory() const noexcept { return factory_; }

 private:
  Address host_;
  std::shared_ptr<Factory> factory_;
  bool listening_ = true;
};

/// The Connector returned by MemoryReactor::connectTCP and connectUNIX. It connects nowhere: the test
/// decides how each attempt ends with completeConnection(), failConnection() and
/// dropConnection(), and the factory is told exactly as by a real connector (the factory's
/// doStart when an attempt starts, doStop once it ends and nothing reconnected).
///
/// Thread safety: use only on the test's thread; it takes no locks.
class MemoryConnector : public Connector {
 public:
  /// A disconnected connector to `destination` for `factory`; MemoryReactor::connectTCP
  /// (or connectUNIX) starts its first attempt (the factory's doStart and startedConnecting).
  MemoryConnector(Address destination, std::shared_ptr<ClientFactory> factory);

  /// Starts a new attempt (counted by connectCalls()).
  /// @throws std::logic_error unless disconnected.
  void connect() override;

  /// Ends the attempt: the factory's clientConnectionFailed gets ConnectingCancelledError.
  /// @throws std::logic_error if not connecting.
  void stopConnecting() override;

  /// Stops connecting, or calls loseConnection on the transport if connected (the test
  /// then calls dropConnection to finish); counted by disconnectCalls().
  void disconnect() override;

  /// The destination given at construction.
  Address getDestination() const override { return destination_; }

  /// The current state.
  State state() const override { return state_; }

  /// The connection's transport while connected, else nullptr.
  std::shared_ptr<Transport> transport() const override;

  /// Plays the attempt succeeding: the factory builds a protocol, connected to a new
  /// StringTransport (connectionMade runs). If the factory builds nullptr, the attempt
  /// fails with ConnectError instead.
  /// @return the new transport, or nullptr if the factory refused.
  /// @throws std::logic_error if not connecting.
  std::shared_ptr<StringTransport> completeConnection();

  /// Plays the attempt failing: the factory's clientConnectionFailed gets `reason`.
  /// @throws std::logic_error if not connecting.
  void failConnection(const Failure& reason = Failure(ConnectionRefusedError()));

  /// Plays the connection ending: the protocol's connectionLost, then the factory's
  /// clientConnectionLost, get `reason`.
  /// @throws std::logic_error if not connected.
  void dropConnection(const Failure& reason = Failure(ConnectionDone()));

  /// The current connection's protocol, or nullptr.
  const std::shared_ptr<Protocol>& protocol() const noexcept { return protocol_; }

  /// The factory given at construction.
  const std::shared_ptr<ClientFactory>& factory() const noexcept { return factory_; }

  /// How many times connect() was called (the first attempt, made by connectTCP, is
  /// not counted).
  int connectCalls() const noexcept { return connectCalls_; }

  /// How many times disconnect() was called.
  int disconnectCalls() const noexcept { return disconnectCalls_; }

  /// True once stopConnecting was called.
  bool stoppedConnecting() const noexcept { return stoppedConnecting_; }

 private:
  friend class MemoryReactor;
  void startAttempt();
  void requireState(State state, const char* what) const;
  void endAttempt();

  Address destination_;
  std::shared_ptr<ClientFactory> factory_;
  std::shared_ptr<Protocol> protocol_;
  std::shared_ptr<StringTransport> transport_;
  State state_ = State::disconnected;
  int connectCalls_ = 0;
  int disconnectCalls_ = 0;
  bool stoppedConnecting_ = false;
  bool factoryStarted_ = false;
};

/// The DatagramTransport returned by MemoryReactor::listenUDP. It sends nothing: the
/// datagrams written are recorded in `written`, and receive() plays one arriving.
///
/// Thread safety: use only on the test's thread; it takes no locks.
class MemoryDatagramTransport : public DatagramTransport {
 public:
  /// One datagram written.
  struct Datagram {
    std::string data;  ///< its bytes
    Address to;        ///< where it was sent
  };

  /// An open port bound to `host`, for `protocol` (not owned: MemoryReactor keeps it).
  MemoryDatagramTransport(Address host, std::weak_ptr<DatagramProtocol> protocol);

  /// Records the datagram in `written`; dropped once the port is closed.
  /// @throws std::logic_error in connected mode if `to` is not the connected address.
  void write(Bytes data, const Address& to) override;

  /// Records the datagram for the connected address.
  /// @throws std::logic_error if not connected.
  void write(Bytes data) override;

  /// Enters connected mode (see connectedTo()).
  /// @throws std::invalid_argument if the address's family differs from the port's.
  void connect(const Address& address) override;

  /// The address given at construction.
  Address getHost() const override { return host_; }

  /// Closes the port: the protocol's stopProtocol runs, once.
  void stopListening() override;

  /// True until stopListening.
  bool listening() const override { return listening_; }

  /// Plays a datagram arriving from `from`: the protocol's datagramReceived gets it.
  /// Dropped once the port is closed, and in connected mode when `from` is not the
  /// connected address (as the kernel does).
  void receive(Bytes data, const Address& from);

  /// Plays an ICMP port unreachable in connected mode: the protocol's connectionRefused.
  /// @throws std::logic_error if not connected.
  void reportConnectionRefused();

  /// The address given to connect(), if any.
  const std::optional<Address>& connectedTo() const noexcept { return connectedTo_; }

  std::vector<Datagram> written;  ///< every datagram written, in order

 private:
  Address host_;
  std::weak_ptr<DatagramProtocol> protocol_;
  std::optional<Address> connectedTo_;
  bool listening_ = true;
};

/// A reactor stand-in for tests (Twisted's `MemoryReactor`). It implements the reactor
/// interfaces, so code written against IReactorTCP, IReactorUNIX, IReactorUDP,
/// IReactorCore, IReactorThreads or IReactorFDSet is tested with it unchanged:
/// - listenTCP, connectTCP, listenUNIX, connectUNIX and listenUDP record their arguments
///   and return a MemoryListeningPort, MemoryConnector or MemoryDatagramTransport
///   through which the test plays the network;
/// - run, stop, callWhenRunning, system event triggers and the reader/writer sets are
///   recorded;
/// - callFromThread and callInThread are queued, and run when the test says so
///   (runCallsFromThreads, runThreadPoolJobs), on the test's thread.
///
/// Nothing touches a socket. For timers as well, use MemoryReactorClock.
///
/// Thread safety: callFromThread may be called from any thread; everything else
/// belongs to the test's thread.
///
/// @code
/// torsion::testing::MemoryReactor reactor;
/// auto factory = torsion::ClientFactory::forProtocol<MyClient>();
/// reactor.connectTCP("example.com", 80, factory);
/// ASSERT_EQ(reactor.tcpClients.size(), 1u);
/// auto transport = reactor.connectors[0]->completeConnection();   // connectionMade
/// EXPECT_EQ(transport->value(), "GET / HTTP/1.0\r\n\r\n");
/// @endcode
class MemoryReactor : public IReactorCore,
                      public IReactorTCP,
                      public IReactorUNIX,
                      public IReactorUDP,
                      public IReactorThreads,
                      public IReactorFDSet {
 public:
  /// One call of listenTCP.
  struct TcpServer {
    std::uint16_t port;                                  ///< the port asked for
    std::shared_ptr<Factory> factory;                    ///< the factory given
    int backlog;                                         ///< the backlog given
    std::string interface;                               ///< the interface given
    std::shared_ptr<MemoryListeningPort> listeningPort;  ///< what was returned
  };

  /// One call of connectTCP.
  struct TcpClient {
    std::string host;                        ///< the host given
    std::uint16_t port;                      ///< the port given
    std::shared_ptr<ClientFactory> factory;  ///< the factory given
    double timeout;                          ///< the timeout given
    std::optional<Address> bindAddress;      ///< the bind address given
  };

  /// One call of listenUNIX.
  struct UnixServer {
    std::string path;                                    ///< the path given
    std::shared_ptr<Factory> factory;                    ///< the factory given
    int backlog;                                         ///< the backlog given
    std::shared_ptr<MemoryListeningPort> listeningPort;  ///< what was returned
  };

  /// One call of connectUNIX.
  struct UnixClient {
    std::string path;                        ///< the path given
    std::shared_ptr<ClientFactory> factory;  ///< the factory given
    double timeout;                          ///< the timeout given
  };

  /// One call of listenUDP.
  struct UdpPort {
    std::uint16_t port;                                  ///< the port asked for
    std::shared_ptr<DatagramProtocol> protocol;          ///< the protocol given (kept alive here)
    std::string interface;                               ///< the interface given
    std::size_t maxPacketSize;                           ///< the maximum size given
    std::shared_ptr<MemoryDatagramTransport> transport;  ///< what was returned
  };

  /// One trigger added with addSystemEventTrigger.
  using Trigger = SystemEventTrigger;

  /// A reactor that has recorded nothing yet.
  MemoryReactor() = default;
  /// Ends what a Reactor ends when it is destroyed (see failPendingConnections), then
  /// drops what it recorded; queued calls never run.
  ~MemoryReactor() override;
  MemoryReactor(const MemoryReactor&) = delete;             ///< Not copyable.
  MemoryReactor& operator=(const MemoryReactor&) = delete;  ///< Not copyable.

  // ---- IReactorTCP, IReactorUNIX, IReactorUDP ------------------------------------

  /// Records the call and returns a port bound to `interface` (0.0.0.0 if empty) and
  /// `port`; the factory's doStart is called.
  std::shared_ptr<ListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog = 50,
                                           std::string_view interface = {}) override;

  /// Records the call and returns a MemoryConnector (also kept in `connectors`) in the
  /// connecting state; the factory's doStart and startedConnecting are called.
  std::shared_ptr<Connector> connectTCP(std::string_view host, std::uint16_t port,
                                        std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                        std::optional<Address> bindAddress = std::nullopt) override;

  /// Records the call and returns a port bound to the Unix socket `path`; the
  /// factory's doStart is called. No file is created.
  std::shared_ptr<ListeningPort> listenUNIX(std::string_view path, std::shared_ptr<Factory> factory,
                                            int backlog = 50) override;

  /// Records the call and returns a MemoryConnector to `path` (also kept in
  /// `connectors`) in the connecting state, as connectTCP.
  std::shared_ptr<Connector> connectUNIX(std::string_view path, std::shared_ptr<ClientFactory> factory,
                                         double timeout = 30) override;

  /// Records the call and returns a MemoryDatagramTransport bound to `interface`
  /// (0.0.0.0 if empty) and `port`; the protocol's startProtocol runs.
  std::shared_ptr<DatagramTransport> listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                               std::string_view interface = {},
                                               std::size_t maxPacketSize = 8192) override;

  // ---- IReactorCore ----------------------------------------------------------------

  /// Sets running, runs the "startup" triggers and the callWhenRunning calls, then
  /// stops at once (as Twisted's MemoryReactor): the test drives everything else.
  /// @param installSignalHandlers recorded in `signalHandlersRequested`; no handler is
  /// installed.
  /// @throws std::logic_error if already running.
  void run(bool installSignalHandlers = true) override;

  /// Fires the "shutdown" triggers and records the stop.
  /// @throws ReactorNotRunning if not running.
  void stop() override;

  /// True inside run().
  bool running() const noexcept override { return running_; }

  /// Runs `fn` now if running, else at the start of run().
  void callWhenRunning(std::function<void()> fn) override;

  /// Records a trigger (see Reactor::addSystemEventTrigger).
  TriggerId addSystemEventTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn) override;

  /// Removes a trigger that has not run.
  /// @throws std::invalid_argument if there is no such trigger.
  void removeSystemEventTrigger(TriggerId id) override;

  /// Runs and removes the triggers of `eventType`: before, then during, then after.
  void fireSystemEvent(std::string_view eventType) override;

  // ---- IReactorThreads ---------------------------------------------------------------

  /// Queues `fn`; runCallsFromThreads runs it. Thread safety: any thread.
  void callFromThread(std::function<void()> fn) override;

  /// Queues `fn`; runThreadPoolJobs runs it (on the test's thread: there is no pool).
  void callInThread(std::function<void()> fn) override;

  /// Records the size in `threadPoolSize`.
  /// @throws std::invalid_argument if `maxThreads` is 0.
  void suggestThreadPoolSize(std::size_t maxThreads) override;

  /// Runs the callFromThread calls queued so far, in order (calls they queue wait for
  /// the next run, as on the reactor).
  /// @return how many ran.
  std::size_t runCallsFromThreads();

  /// Runs the callInThread jobs queued so far, in order, on the calling thread.
  /// @return how many ran.
  std::size_t runThreadPoolJobs();

  /// How many callFromThread calls wait. Thread safety: any thread.
  std::size_t pendingCallsFromThreads() const;

  /// How many callInThread jobs wait.
  std::size_t pendingThreadPoolJobs() const noexcept { return poolJobs_.size(); }

  // ---- Shutdown -------------------------------------------------------------------------

  /// Fails every connection attempt still in progress with ConnectingCancelledError
  /// ("The reactor was destroyed."), as a Reactor does when destroyed: each factory gets
  /// clientConnectionFailed then doStop, so an endpoint's pending connect Deferred fires
  /// instead of being dropped unfired. Only the connectors that exist when it starts are
  /// failed (a factory that reconnects at once is not chased); an exception from a
  /// factory is logged. The destructor calls it; established connections are left to
  /// the test, which plays them with dropConnection.
  void failPendingConnections() noexcept;

  // ---- IReactorFDSet -----------------------------------------------------------------

  /// Adds to `readers`.
  void addReader(Selectable& selectable) override { add(readers, selectable); }
  /// Adds to `writers`.
  void addWriter(Selectable& selectable) override { add(writers, selectable); }
  /// Removes from `readers`.
  void removeReader(Selectable& selectable) override { remove(readers, selectable); }
  /// Removes from `writers`.
  void removeWriter(Selectable& selectable) override { remove(writers, selectable); }
  /// Removes from both sets.
  void removeAll(Selectable& selectable) override {
    remove(readers, selectable);
    remove(writers, selectable);
  }

  std::vector<TcpServer> tcpServers;                         ///< every listenTCP call, in order
  std::vector<TcpClient> tcpClients;                         ///< every connectTCP call, in order
  std::vector<UnixServer> unixServers;                       ///< every listenUNIX call, in order
  std::vector<UnixClient> unixClients;                       ///< every connectUNIX call, in order
  std::vector<UdpPort> udpPorts;                             ///< every listenUDP call, in order
  std::vector<std::shared_ptr<MemoryConnector>> connectors;  ///< every connector returned (TCP and Unix)
  std::vector<Trigger> triggers;                             ///< triggers not yet run
  std::vector<Selectable*> readers;                          ///< watched for reading
  std::vector<Selectable*> writers;                          ///< watched for writing
  std::optional<std::size_t> threadPoolSize;                 ///< the last suggestThreadPoolSize
  bool hasRun = false;                                       ///< run() was called
  bool hasStopped = false;                                   ///< stop() was called
  bool signalHandlersRequested = false;                      ///< run()'s argument, the last time

 private:
  static void add(std::vector<Selectable*>& set, Selectable& selectable);
  static void remove(std::vector<Selectable*>& set, Selectable& selectable);
  std::shared_ptr<MemoryConnector> startConnector(Address destination, std::shared_ptr<ClientFactory> factory);

  std::vector<std::function<void()>> whenRunning_;
  mutable std::mutex threadCallsMutex_;
  std::vector<std::function<void()>> threadCalls_;  // guarded by threadCallsMutex_
  std::vector<std::function<void()>> poolJobs_;
  TriggerId nextTrigger_ = 1;
  bool running_ = false;
};

/// A MemoryReactor that is also a Clock (Twisted's `MemoryReactorClock`): for code that
/// both connects and schedules, such as a ReconnectingClientFactory. It implements every
/// reactor interface, IReactorTime included; time moves only with advance() and pump().
///
/// Thread safety: as MemoryReactor and Clock.
class MemoryReactorClock : public MemoryReactor, public Clock {
 public:
  /// Fails the connection attempts still in progress while the clock still exists, so a
  /// factory that schedules a retry from clientConnectionFailed (ReconnectingClientFactory)
  /// schedules it on a live clock.
  ~MemoryReactorClock() override { failPendingConnections(); }
};

}  // namespace torsion::testing
