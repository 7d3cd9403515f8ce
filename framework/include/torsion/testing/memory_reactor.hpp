// Public. testing::MemoryReactor: a reactor stand-in that records listens and connects.
#pragma once

#include <torsion/address.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/reactor.hpp>
#include <torsion/selectable.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::testing {

/// A protocol built by a MemoryListeningPort for a simulated incoming connection, and
/// the StringTransport it is connected to.
struct AcceptedConnection {
  std::shared_ptr<Protocol> protocol;          ///< what the factory built
  std::shared_ptr<StringTransport> transport;  ///< its transport, to play the peer
};

/// The ListeningPort returned by MemoryReactor::listenTCP. It listens on nothing;
/// accept() plays an incoming connection.
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
  /// @return the protocol and its transport; both null if the factory refused (built
  /// nullptr).
  /// @throws std::logic_error if the port no longer listens.
  AcceptedConnection accept(Address peer = {Address::Family::ipv4, "192.168.1.1", 54321});

  /// The factory given at construction.
  const std::shared_ptr<Factory>& factory() const noexcept { return factory_; }

 private:
  Address host_;
  std::shared_ptr<Factory> factory_;
  bool listening_ = true;
};

/// The Connector returned by MemoryReactor::connectTCP. It connects nowhere: the test
/// decides how each attempt ends with completeConnection(), failConnection() and
/// dropConnection(), and the factory is told exactly as by a real connector (the factory's
/// doStart when an attempt starts, doStop once it ends and nothing reconnected).
class MemoryConnector : public Connector {
 public:
  /// A disconnected connector to `destination` for `factory`; MemoryReactor::connectTCP
  /// starts its first attempt (the factory's doStart and startedConnecting).
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

/// A reactor stand-in for tests (Twisted's `MemoryReactor`): listenTCP and connectTCP
/// record their arguments and return a MemoryListeningPort or MemoryConnector through
/// which the test plays the network; run, stop, callWhenRunning, system event triggers
/// and the reader/writer sets are recorded too. Nothing touches a socket.
///
/// It has the same method names and signatures as Reactor, so code written as a
/// template over its reactor type can be tested with it. For timers as well, use
/// MemoryReactorClock.
///
/// @code
/// torsion::testing::MemoryReactor reactor;
/// auto factory = torsion::ClientFactory::forProtocol<MyClient>();
/// reactor.connectTCP("example.com", 80, factory);
/// ASSERT_EQ(reactor.tcpClients.size(), 1u);
/// auto transport = reactor.connectors[0]->completeConnection();   // connectionMade
/// EXPECT_EQ(transport->value(), "GET / HTTP/1.0\r\n\r\n");
/// @endcode
class MemoryReactor {
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

  /// One trigger added with addSystemEventTrigger.
  struct Trigger {
    Reactor::TriggerId id;     ///< what addSystemEventTrigger returned
    EventPhase phase;          ///< before, during or after
    std::string eventType;     ///< "startup", "shutdown", ...
    std::function<void()> fn;  ///< what to run
  };

  virtual ~MemoryReactor() = default;

  /// Records the call and returns a port bound to `interface` (0.0.0.0 if empty) and
  /// `port`; the factory's doStart is called.
  std::shared_ptr<ListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog = 50,
                                           std::string_view interface = {});

  /// Records the call and returns a MemoryConnector (also kept in `connectors`) in the
  /// connecting state; the factory's doStart and startedConnecting are called.
  std::shared_ptr<Connector> connectTCP(std::string_view host, std::uint16_t port,
                                        std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                        std::optional<Address> bindAddress = std::nullopt);

  /// Sets running, runs the callWhenRunning calls and the "startup" triggers, then
  /// stops at once (as Twisted's MemoryReactor): the test drives everything else.
  /// @throws std::logic_error if already running.
  void run();

  /// Fires the "shutdown" triggers and records the stop.
  /// @throws ReactorNotRunning if not running.
  void stop();

  /// True inside run().
  bool running() const noexcept { return running_; }

  /// Runs `fn` now if running, else at the start of run().
  void callWhenRunning(std::function<void()> fn);

  /// Records a trigger (see Reactor::addSystemEventTrigger).
  Reactor::TriggerId addSystemEventTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn);

  /// Removes a trigger that has not run.
  /// @throws std::invalid_argument if there is no such trigger.
  void removeSystemEventTrigger(Reactor::TriggerId id);

  /// Runs and removes the triggers of `eventType`: before, then during, then after.
  void fireSystemEvent(std::string_view eventType);

  /// Adds to `readers`.
  void addReader(Selectable& selectable) { add(readers, selectable); }
  /// Adds to `writers`.
  void addWriter(Selectable& selectable) { add(writers, selectable); }
  /// Removes from `readers`.
  void removeReader(Selectable& selectable) { remove(readers, selectable); }
  /// Removes from `writers`.
  void removeWriter(Selectable& selectable) { remove(writers, selectable); }
  /// Removes from both sets.
  void removeAll(Selectable& selectable) {
    remove(readers, selectable);
    remove(writers, selectable);
  }

  std::vector<TcpServer> tcpServers;                         ///< every listenTCP call, in order
  std::vector<TcpClient> tcpClients;                         ///< every connectTCP call, in order
  std::vector<std::shared_ptr<MemoryConnector>> connectors;  ///< every connector returned
  std::vector<Trigger> triggers;                             ///< triggers not yet run
  std::vector<Selectable*> readers;                          ///< watched for reading
  std::vector<Selectable*> writers;                          ///< watched for writing
  bool hasRun = false;                                       ///< run() was called
  bool hasStopped = false;                                   ///< stop() was called

 private:
  static void add(std::vector<Selectable*>& set, Selectable& selectable);
  static void remove(std::vector<Selectable*>& set, Selectable& selectable);

  std::vector<std::function<void()>> whenRunning_;
  Reactor::TriggerId nextTrigger_ = 1;
  bool running_ = false;
};

/// A MemoryReactor that is also a Clock (Twisted's `MemoryReactorClock`): for code that
/// both connects and schedules, such as a ReconnectingClientFactory.
class MemoryReactorClock : public MemoryReactor, public Clock {};

}  // namespace torsion::testing
