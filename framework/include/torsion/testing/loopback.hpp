// Public. An in-memory connection between two protocols, pumped by the test (Twisted's
// twisted.test.iosim: connectedServerAndClient and IOPump).
#pragma once

#include <torsion/address.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/protocol.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace torsion::testing {

/// How connectProtocols and connectedServerAndClient set up a loopback.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct LoopbackOptions {
  /// The server's end: its transport's getHost, the client transport's getPeer.
  Address serverAddress{Address::Family::ipv4, "10.0.0.1", 12345};
  /// The client's end: its transport's getHost, the server transport's getPeer.
  Address clientAddress{Address::Family::ipv4, "192.168.1.1", 54321};
  /// Deliver bytes in dataReceived calls of at most this many (0: each pump's bytes in
  /// one call), to check that a protocol reassembles what TCP splits.
  std::size_t chunkSize = 0;
  /// When set, advanced by 0 seconds at the start of each pump, so that callLater(0)
  /// work scheduled on it runs between deliveries. Not owned.
  Clock* clock = nullptr;
  /// Flush once after connecting, so that greetings are exchanged before the test
  /// starts (Twisted's `greet`).
  bool greet = true;
};

/// Moves bytes between two protocols connected by a pair of StringTransports, only when
/// the test says so (Twisted's `IOPump`). Nothing runs on its own: each pump() is one
/// round trip of the simulated network, and flush() pumps until nothing moves.
///
/// One pump():
/// 1. asks each side's registered pull producer for one more chunk (as a transport
///    does each time its queue drains), then takes what the side wrote since the last
///    pump (the server's first); on a side whose writes are blocked
///    (setWritesBlocked) the queue and the producer wait until it is unblocked;
/// 2. delivers the client's bytes to the server, then the server's to the client, in
///    chunks of chunkSize if set; a receiver that paused its transport
///    (pauseProducing) gets them when it resumes;
/// 3. if no byte moved, moves one close event, in Twisted's order: a side that called
///    loseWriteConnection makes its peer see end-of-file (readConnectionLost for a
///    HalfCloseableProtocol, else the peer's connection is lost); a side that called
///    loseConnection or abortConnection makes its *peer* see connectionLost first, and
///    itself at the next pump. The reasons are ConnectionDone, except that a side that
///    aborted sees ConnectionAborted and its peer ConnectionLost; what an aborting side
///    wrote but the pump had not moved yet is dropped.
///
/// Faults: failAfter() breaks the connection once a given number of bytes were
/// delivered (cutting a delivery in the middle), and failConnection() breaks it now;
/// both sides then see connectionLost with the given Failure.
///
/// Keeps both protocols and transports alive. Not thread-safe.
///
/// @code
/// auto [client, server, pump] = torsion::testing::connectedServerAndClient(
///     std::make_shared<Echo>(), std::make_shared<MyClient>());
/// client->transport().write("ping");
/// pump.flush();                        // the echo comes back
/// client->transport().loseConnection();
/// pump.flush();                        // server, then client: connectionLost
/// @endcode
///
/// Thread safety: use only on the test's thread; it takes no locks.
class IOPump {
 public:
  /// A pump between two protocols already connected to their transports (see
  /// connectProtocols, which makes one).
  IOPump(std::shared_ptr<Protocol> client, std::shared_ptr<Protocol> server,
         std::shared_ptr<StringTransport> clientTransport, std::shared_ptr<StringTransport> serverTransport,
         std::size_t chunkSize = 0, Clock* clock = nullptr);

  /// Moves bytes once in each direction, or one close event (see the class).
  /// @return whether anything moved.
  bool pump();

  /// Pumps until nothing moves.
  /// @param maxPumps how many pumps to allow.
  /// @return whether anything moved.
  /// @throws std::logic_error if things still move after maxPumps pumps (two protocols
  /// that answer each other forever, or a pull producer that never unregisters).
  bool flush(std::size_t maxPumps = 1000);

  /// Delivers at most `bytes` per dataReceived call from now on (0: no limit).
  void setChunkSize(std::size_t bytes) noexcept { chunkSize_ = bytes; }

  /// Breaks the connection with `reason` once `bytes` more bytes were delivered (in
  /// either direction, in pump order): the delivery that crosses the mark is cut there,
  /// and both sides see connectionLost(reason), the server first.
  void failAfter(std::size_t bytes, Failure reason);

  /// Breaks the connection now: each side still connected sees connectionLost(reason),
  /// the server first. Bytes not delivered yet are dropped.
  void failConnection(const Failure& reason);

  /// Bytes delivered so far, both directions.
  std::size_t bytesDelivered() const noexcept { return delivered_; }

  /// The client's transport.
  const std::shared_ptr<StringTransport>& clientTransport() const noexcept { return client_.transport; }

  /// The server's transport.
  const std::shared_ptr<StringTransport>& serverTransport() const noexcept { return server_.transport; }

 private:
  struct Side {
    std::shared_ptr<Protocol> protocol;
    std::shared_ptr<StringTransport> transport;
    bool eofSent = false;
  };
  struct PlannedFailure {
    std::size_t bytesLeft;
    Failure reason;
  };

  std::string take(Side& side);
  void deliver(Side& to, const std::string& data);
  bool moveEndOfFile(Side& from, Side& to);
  bool moveClose();

  Side client_;
  Side server_;
  std::optional<PlannedFailure> plannedFailure_;
  std::size_t chunkSize_;
  std::size_t delivered_ = 0;
  Clock* clock_;
};

/// Connects `server` and `client` through a new pair of StringTransports (the server's
/// connectionMade first, as in Twisted's iosim.connect) and returns the pump between
/// them, flushed once if `options.greet`.
IOPump connectProtocols(std::shared_ptr<Protocol> server, std::shared_ptr<Protocol> client,
                        const LoopbackOptions& options = {});

/// Two connected protocols and the pump between them (from connectedServerAndClient).
///
/// Thread safety: use only on the test's thread; it takes no locks.
template <class ServerProtocol, class ClientProtocol>
struct Loopback {
  std::shared_ptr<ClientProtocol> client;  ///< the connecting side's protocol
  std::shared_ptr<ServerProtocol> server;  ///< the accepting side's protocol
  IOPump pump;                             ///< moves bytes between them
};

/// Connects two protocol objects in memory (Twisted's iosim.connectedServerAndClient).
/// @param server the accepting side's protocol (connected first).
/// @param client the connecting side's protocol.
/// @param options addresses, chunk size, clock and greeting (see LoopbackOptions).
/// @return the client, the server and the pump, typed as given.
template <class ServerProtocol, class ClientProtocol>
requires std::derived_from<ServerProtocol, Protocol> && std::derived_from<ClientProtocol, Protocol>
    Loopback<ServerProtocol, ClientProtocol> connectedServerAndClient(std::shared_ptr<ServerProtocol> server,
                                                                      std::shared_ptr<ClientProtocol> client,
                                                                      const LoopbackOptions& options = {}) {
  IOPump pump = connectProtocols(server, client, options);
  return {std::move(client), std::move(server), std::move(pump)};
}

/// Connects a protocol built by each factory in memory: the server's from
/// `serverFactory`->buildProtocol(client address), the client's likewise.
/// @tparam ServerProtocol the server protocol's type to hand back (Protocol by default).
/// @tparam ClientProtocol the client protocol's type to hand back (Protocol by default).
/// @param serverFactory builds the server's protocol.
/// @param clientFactory builds the client's protocol.
/// @param options addresses, chunk size, clock and greeting (see LoopbackOptions).
/// @return the client, the server and the pump.
/// @throws std::logic_error if a factory refuses (builds nullptr) or builds a protocol
/// of another type.
template <class ServerProtocol = Protocol, class ClientProtocol = Protocol>
Loopback<ServerProtocol, ClientProtocol> connectedServerAndClient(const std::shared_ptr<Factory>& serverFactory,
                                                                  const std::shared_ptr<Factory>& clientFactory,
                                                                  const LoopbackOptions& options = {}) {
  const auto build = [](Factory& factory, const Address& peer, auto* typeTag, const char* side) {
    using P = std::remove_pointer_t<decltype(typeTag)>;
    auto built = std::dynamic_pointer_cast<P>(factory.buildProtocol(peer));
    if (!built) {
      throw std::logic_error(std::string("connectedServerAndClient: the ") + side +
                             " factory built no protocol of the type asked for");
    }
    return built;
  };
  auto server = build(*serverFactory, options.clientAddress, static_cast<ServerProtocol*>(nullptr), "server");
  auto client = build(*clientFactory, options.serverAddress, static_cast<ClientProtocol*>(nullptr), "client");
  return connectedServerAndClient(std::move(server), std::move(client), options);
}

}  // namespace torsion::testing
