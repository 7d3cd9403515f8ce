// Public. Transport: the connection a Protocol writes to (Twisted's ITCPTransport).
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/producer.hpp>

#include <cstddef>
#include <memory>
#include <span>

namespace torsion {

class IReactorTime;
class Protocol;
class Reactor;

/// A bidirectional byte stream, handed to a Protocol by makeConnection. It is also a
/// push producer of the bytes it reads: pauseProducing stops reading from the socket,
/// so that the peer's writes back up; resumeProducing starts again.
///
/// All methods must be called on the reactor's thread. Every method is safe to call
/// from inside any protocol callback, including after the connection was lost (writes
/// after loseConnection or after the loss are dropped: see write()).
///
/// Thread safety: use only on the thread that runs its reactor.
class Transport : public IPushProducer {
 public:
  ~Transport() override = default;

  /// Sends bytes, in order. The bytes are tried on the socket at once; what the kernel
  /// does not take is copied to a queue and sent when the socket is writable, so `data`
  /// may be reused as soon as write returns. Writes after loseConnection(),
  /// abortConnection() or the loss of the connection are silently dropped, as in Twisted.
  virtual void write(Bytes data) = 0;

  /// Sends several buffers in order as if concatenated, with one gathering system call
  /// where possible.
  virtual void writeSequence(std::span<const Bytes> data) = 0;

  /// Closes the connection once everything queued has been sent; the protocol's
  /// connectionLost then receives ConnectionDone. Reading stops at once.
  virtual void loseConnection() = 0;

  /// Closes the connection now, dropping anything queued; the protocol's
  /// connectionLost receives ConnectionAborted.
  virtual void abortConnection() = 0;

  /// Half-close: sends FIN once the queue drains, while reading goes on. A
  /// HalfCloseableProtocol is then told writeConnectionLost.
  virtual void loseWriteConnection() = 0;

  /// The remote end's address (Address::Family::none if unknown).
  virtual Address getPeer() const = 0;

  /// This end's address.
  virtual Address getHost() const = 0;

  /// True from the start of the connection until it is lost.
  virtual bool connected() const = 0;

  /// True after loseConnection was called and until the connection is lost.
  virtual bool disconnecting() const = 0;

  /// Bytes written but not yet accepted by the kernel.
  virtual std::size_t writeBufferSize() const = 0;

  /// Sets the queue sizes for flow control: a registered producer is paused when the
  /// queue grows above `high` bytes and resumed when it drains to `low` or below.
  /// Defaults: high 65536, low 16384.
  /// @throws std::invalid_argument if low > high.
  virtual void setWriteWatermarks(std::size_t high, std::size_t low) = 0;

  /// The cap on queued output a transport starts with: 64 MiB (see setMaxQueuedOutput).
  static constexpr std::size_t kDefaultMaxQueuedOutput = std::size_t{64} << 20;

  /// Caps the bytes that may wait in the write queue (writeBufferSize()). A write that
  /// would leave more queued drops the connection: the queue is discarded and the
  /// protocol's connectionLost receives ConnectionLost, later in the same pass, and a
  /// warning is logged. This bounds the memory a peer that never reads can make a
  /// writer without a producer hold. Twisted has no such cap; libhv closes at 16 MiB.
  /// The default (kDefaultMaxQueuedOutput, 64 MiB) leaves room for the large single
  /// writes Twisted-style code makes; 0 turns the cap off (Twisted's behaviour). A
  /// producer that honours the water marks never comes near it.
  /// @code
  /// void connectionMade() override { transport().setMaxQueuedOutput(1 << 20); }  // 1 MiB
  /// @endcode
  /// @throws std::logic_error on a transport that has no write queue of its own (the
  /// base class's implementation).
  virtual void setMaxQueuedOutput(std::size_t bytes);

  /// The cap set by setMaxQueuedOutput (0: none).
  /// @throws std::logic_error as setMaxQueuedOutput.
  virtual std::size_t maxQueuedOutput() const;

  /// Registers a producer that writes into this transport, for back-pressure (Twisted's
  /// IConsumer.registerProducer). With `streaming` true the producer must be an
  /// IPushProducer and is paused and resumed by the water marks; with false it is a
  /// pull producer, asked for one more chunk each time the queue drains.
  /// @throws std::logic_error if a producer is already registered, or if `streaming` is
  /// true and the producer is not an IPushProducer.
  virtual void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) = 0;

  /// Forgets the registered producer (if any) without telling it anything.
  virtual void unregisterProducer() = 0;

  /// Enables or disables Nagle's algorithm's opposite (TCP_NODELAY).
  /// @throws std::logic_error on a transport that is not TCP.
  virtual void setTcpNoDelay(bool enabled);

  /// Whether TCP_NODELAY is on.
  /// @throws std::logic_error on a transport that is not TCP.
  virtual bool getTcpNoDelay() const;

  /// Enables or disables TCP keepalive probes (SO_KEEPALIVE).
  /// @throws std::logic_error on a transport that is not TCP.
  virtual void setTcpKeepAlive(bool enabled);

  /// Whether SO_KEEPALIVE is on.
  /// @throws std::logic_error on a transport that is not TCP.
  virtual bool getTcpKeepAlive() const;

  /// The reactor this transport runs on (what Protocol::reactor() returns), or nullptr
  /// for a transport without one, such as testing::StringTransport.
  virtual Reactor* reactor() const noexcept { return nullptr; }

  /// The clock for timers on this connection (what Protocol::callLater uses): the
  /// reactor by default; testing::StringTransport returns the one given to its setClock.
  /// nullptr if there is none.
  virtual IReactorTime* clock() const noexcept;

  /// Makes `next` this transport's protocol in place of `current`, without calling any
  /// of their hooks: from now on `next` receives dataReceived and connectionLost. This is
  /// the hook that lets a wrapping protocol be inserted on a live connection (TLS's
  /// startTLS, through ProtocolWrapper::wrapConnected) and a protocol hand its connection
  /// to another (switchProtocol); user code calls those rather than this. Bytes already written stay queued and are
  /// sent first.
  /// @return the transport's own reference to `current` (which keeps it alive while the
  /// transport owns it; a non-owning pointer for transports that do not own their
  /// protocol, such as testing::StringTransport).
  /// @throws std::logic_error if `current` is not this transport's protocol, if the
  /// connection is not open, or if this kind of transport cannot change its protocol
  /// (the default).
  virtual std::shared_ptr<Protocol> replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next);
};

/// A listening socket returned by Reactor::listenTCP (Twisted's IListeningPort). The
/// reactor keeps it alive while it listens, so the returned pointer may be dropped.
///
/// Thread safety: use only on the thread that runs its reactor.
class ListeningPort {
 public:
  virtual ~ListeningPort() = default;

  /// Stops accepting connections and closes the socket; existing connections go on.
  /// Calls the factory's doStop. Calling it again does nothing.
  virtual void stopListening() = 0;

  /// The address the socket is bound to, with the real port when port 0 was asked for.
  virtual Address getHost() const = 0;

  /// True until stopListening.
  virtual bool listening() const = 0;
};

class ClientFactory;

/// An outgoing connection attempt and the connection it makes (Twisted's IConnector),
/// returned by Reactor::connectTCP and passed to ClientFactory's callbacks. It can be
/// reused: connect() tries again, as ReconnectingClientFactory does.
///
/// Thread safety: use only on the thread that runs its reactor.
class Connector : public std::enable_shared_from_this<Connector> {
 public:
  /// Where a Connector is in its life.
  enum class State {
    disconnected,  ///< not connecting and not connected
    connecting,    ///< resolving the host name or waiting for the TCP handshake
    connected,     ///< a connection is up
  };

  virtual ~Connector() = default;

  /// Starts connecting again (after a failure or a lost connection).
  /// @throws std::logic_error unless disconnected.
  virtual void connect() = 0;

  /// Stops an attempt in progress; the factory's clientConnectionFailed receives
  /// ConnectingCancelledError.
  /// @throws std::logic_error if not connecting.
  virtual void stopConnecting() = 0;

  /// Stops connecting, or drops the connection if one is up (loseConnection).
  virtual void disconnect() = 0;

  /// The address this connector connects to (host as given, before resolution).
  virtual Address getDestination() const = 0;

  /// The current state.
  virtual State state() const = 0;

  /// The transport of the current connection, or nullptr when not connected.
  virtual std::shared_ptr<Transport> transport() const = 0;
};

}  // namespace torsion
