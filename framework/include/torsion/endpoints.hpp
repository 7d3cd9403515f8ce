// Public. Endpoints: where to listen or connect, as a value or a string (Twisted's
// twisted.internet.endpoints).
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/transport.hpp>

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace torsion {

/// Something a server can listen on (Twisted's IStreamServerEndpoint).
///
/// Thread safety: use only on the thread that runs its reactor.
class IStreamServerEndpoint {
 public:
  virtual ~IStreamServerEndpoint() = default;
  /// Starts listening with `factory`.
  /// @return a Deferred that fires with the listening port, or fails with
  /// CannotListenError.
  virtual Deferred<std::shared_ptr<ListeningPort>> listen(std::shared_ptr<Factory> factory) = 0;
};

/// Something a client can connect to (Twisted's IStreamClientEndpoint).
///
/// Thread safety: use only on the thread that runs its reactor.
class IStreamClientEndpoint {
 public:
  virtual ~IStreamClientEndpoint() = default;
  /// Connects, building the protocol with `factory` (a plain Factory is enough).
  /// @return a Deferred that fires with the connected protocol right after its
  /// connectionMade returns (from inside the transport's connection set-up, as
  /// Twisted's wrapping protocol does; the protocol is then the transport's own, so it
  /// can startTLS), or fails with the reason the connection could not be made
  /// (ConnectionRefusedError, TimeoutError, DNSLookupError, ...). Cancelling it while
  /// connecting stops the attempt with ConnectingCancelledError.
  virtual Deferred<std::shared_ptr<Protocol>> connect(std::shared_ptr<Factory> factory) = 0;
};

/// Listens on a TCP port (IPv4 or IPv6 by the interface's form).
///
/// Thread safety: use only on the thread that runs its reactor.
class TCPServerEndpoint : public IStreamServerEndpoint {
 public:
  /// @param reactor the reactor (or testing::MemoryReactor) to listen on; must outlive
  /// the endpoint.
  /// @param port the port (0: the system picks).
  /// @param backlog the listen() backlog.
  /// @param interface numeric address to bind ("" for all IPv4).
  TCPServerEndpoint(IReactorTCP& reactor, std::uint16_t port, int backlog = 50, std::string interface = {});
  /// Listens with `factory` (IReactorTCP::listenTCP).
  Deferred<std::shared_ptr<ListeningPort>> listen(std::shared_ptr<Factory> factory) override;

 private:
  IReactorTCP& reactor_;
  std::uint16_t port_;
  int backlog_;
  std::string interface_;
};

/// Connects over TCP to a host (numeric or a name, resolved off the loop) and port.
///
/// Thread safety: use only on the thread that runs its reactor.
class TCPClientEndpoint : public IStreamClientEndpoint {
 public:
  /// @param reactor the reactor to connect with; must outlive the endpoint.
  /// @param host the host name or numeric address.
  /// @param port the port.
  /// @param timeout seconds before the attempt fails with TimeoutError.
  /// @param bindAddress local address to bind first, if any.
  TCPClientEndpoint(IReactorTCP& reactor, std::string host, std::uint16_t port, double timeout = 30,
                    std::optional<Address> bindAddress = std::nullopt);
  /// Connects with `factory` (IReactorTCP::connectTCP); see IStreamClientEndpoint::connect.
  Deferred<std::shared_ptr<Protocol>> connect(std::shared_ptr<Factory> factory) override;

 private:
  IReactorTCP& reactor_;
  std::string host_;
  std::uint16_t port_;
  double timeout_;
  std::optional<Address> bindAddress_;
};

/// Listens on a Unix domain stream socket.
///
/// Thread safety: use only on the thread that runs its reactor.
class UNIXServerEndpoint : public IStreamServerEndpoint {
 public:
  /// @param reactor the reactor to listen on; must outlive the endpoint.
  /// @param path the socket file's path.
  /// @param backlog the listen() backlog.
  UNIXServerEndpoint(IReactorUNIX& reactor, std::string path, int backlog = 50);
  /// Listens with `factory` (IReactorUNIX::listenUNIX).
  Deferred<std::shared_ptr<ListeningPort>> listen(std::shared_ptr<Factory> factory) override;

 private:
  IReactorUNIX& reactor_;
  std::string path_;
  int backlog_;
};

/// Connects to a Unix domain stream socket.
///
/// Thread safety: use only on the thread that runs its reactor.
class UNIXClientEndpoint : public IStreamClientEndpoint {
 public:
  /// @param reactor the reactor to connect with; must outlive the endpoint.
  /// @param path the socket file's path.
  /// @param timeout seconds before the attempt fails with TimeoutError.
  UNIXClientEndpoint(IReactorUNIX& reactor, std::string path, double timeout = 30);
  /// Connects with `factory` (IReactorUNIX::connectUNIX); see IStreamClientEndpoint::connect.
  Deferred<std::shared_ptr<Protocol>> connect(std::shared_ptr<Factory> factory) override;

 private:
  IReactorUNIX& reactor_;
  std::string path_;
  double timeout_;
};

/// The reactor interfaces an endpoint description may need: TCP ("tcp:...") and Unix
/// sockets ("unix:..."). A non-owning pair of references, made implicitly from anything
/// that implements both (Reactor, testing::MemoryReactor), or from two objects.
///
/// @code
/// torsion::testing::MemoryReactor reactor;
/// auto endpoint = torsion::serverFromString(reactor, "tcp:8080");   // converts
/// @endcode
///
/// Thread safety: a pair of references: safe to copy; use what it refers to only on the reactor's thread.
class StreamReactors {
 public:
  /// Refers to `reactor` for both kinds of socket; `reactor` must outlive what is made.
  template <class R>
  requires std::derived_from<R, IReactorTCP> && std::derived_from<R, IReactorUNIX> StreamReactors(R& reactor)
  noexcept  // NOLINT(google-explicit-constructor): converts on purpose
      : tcp_(&reactor), local_(&reactor) {}

  /// Refers to `tcp` for TCP and to `local` for Unix sockets; both must outlive what is
  /// made.
  StreamReactors(IReactorTCP& tcp, IReactorUNIX& local) noexcept : tcp_(&tcp), local_(&local) {}

  /// The TCP reactor.
  IReactorTCP& tcp() const noexcept { return *tcp_; }

  /// The Unix-socket reactor.
  IReactorUNIX& unixSockets() const noexcept { return *local_; }

 private:
  IReactorTCP* tcp_;
  IReactorUNIX* local_;
};

/// Makes a server endpoint from a Twisted-style description:
/// "tcp:8080", "tcp:port=8080:interface=127.0.0.1:backlog=100", "tcp:0:interface=\:\:1"
/// (a backslash escapes a colon inside a value), "unix:/run/app.sock:backlog=10".
/// @throws std::invalid_argument naming the bad part (unknown type, unknown parameter,
/// missing port, a port that is not a number in 0..65535, ...).
/// @param reactor a Reactor, a testing::MemoryReactor, or any StreamReactors.
/// @param description the endpoint's description, as above.
///
/// @code
/// auto endpoint = torsion::serverFromString(reactor, "tcp:8080:interface=127.0.0.1");
/// endpoint->listen(torsion::Factory::forProtocol<Echo>());
/// @endcode
std::shared_ptr<IStreamServerEndpoint> serverFromString(StreamReactors reactor, std::string_view description);

/// Makes a client endpoint from a Twisted-style description:
/// "tcp:host=localhost:port=8080:timeout=5", "tcp:127.0.0.1:8080",
/// "tcp:host=example.org:port=80:bindAddress=127.0.0.1", "unix:path=/run/app.sock:timeout=2".
/// @param reactor a Reactor, a testing::MemoryReactor, or any StreamReactors.
/// @param description the endpoint's description, as above.
/// @throws std::invalid_argument naming the bad part.
std::shared_ptr<IStreamClientEndpoint> clientFromString(StreamReactors reactor, std::string_view description);

/// Connects `endpoint` with an already-made protocol (Twisted's connectProtocol).
/// @return a Deferred that fires with `protocol` once it is connected.
///
/// @code
/// auto client = std::make_shared<MyClient>();
/// torsion::connectProtocol(*torsion::clientFromString(reactor, "tcp:127.0.0.1:8080"), client)
///     .addCallback([](const std::shared_ptr<MyClient>& p) { p->sendHello(); });
/// @endcode
template <class P>
Deferred<std::shared_ptr<P>> connectProtocol(IStreamClientEndpoint& endpoint, std::shared_ptr<P> protocol) {
  static_assert(std::is_base_of_v<Protocol, P>, "connectProtocol: P must derive from torsion::Protocol");
  auto factory = std::make_shared<Factory>();
  // Hand the protocol out once and forget it: the protocol's `factory` points back here,
  // and a factory that kept the protocol would keep both alive forever.
  factory->protocol = [slot = std::make_shared<std::shared_ptr<Protocol>>(protocol)] {
    return std::exchange(*slot, nullptr);
  };
  return endpoint.connect(factory).addCallback([protocol](const std::shared_ptr<Protocol>&) { return protocol; });
}

}  // namespace torsion
