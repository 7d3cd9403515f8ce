// Public. ProtocolWrapper and WrappingFactory: the one way a protocol stands between a
// transport and another protocol (the policies in torsion::protocols, TLS, startTLS), and
// switchProtocol, the one way a protocol hands its live connection to another.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>
#include <torsion/transport.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_set>
#include <vector>

namespace torsion {

class WrappingFactory;

/// Stands between a real transport and a wrapped protocol (Twisted's ProtocolWrapper): it
/// is the Protocol of the real transport and itself the Transport of the wrapped
/// protocol. Everything passes through unchanged unless a subclass overrides the
/// Transport methods (write, loseConnection, registerProducer, pauseProducing ...): that
/// is how policies such as protocols::ThrottlingFactory count bytes or pause producers,
/// and how TLS encrypts. Producers and flow control pass through: a producer the wrapped
/// protocol registers is registered with the real transport, and the wrapped protocol's
/// pause and resume of its transport pause and resume the real one.
///
/// A wrapper is made in one of two ways. A WrappingFactory builds one per connection
/// (wrapProtocol); its connectionMade then connects the wrapped protocol (whose
/// connectionMade runs inside the wrapper's). Or wrapConnected() inserts a wrapper made
/// without a factory under a protocol that is already connected (what startTLS does, as
/// Twisted's startTLS puts a TLSMemoryBIOProtocol under the transport's protocol): the
/// wrapped protocol's connectionMade does not run again.
///
/// The wrapped protocol's connectionLost runs exactly once, inside the wrapper's (after
/// the factory's unregisterProtocol); its callLater timers die then, as on a real
/// transport. The wrapped protocol holds the wrapper as its transport, and the wrapper
/// lets the wrapped protocol go once it was told of the loss, so the two never keep each
/// other alive: afterwards writes through the wrapper are dropped, connected() is false
/// and wrappedProtocolPtr() is null. On a reactor the wrapped protocol goes to the
/// reactor's release step, as every connection's protocol does, so it is never destroyed
/// inside the dispatch that lost the connection.
///
/// The wrapper is not half-closeable: the peer's FIN ends the connection for the
/// wrapped protocol too.
///
/// Thread safety: use only on the thread that runs its reactor.
class ProtocolWrapper : public Protocol,
                        public virtual Transport,
                        public std::enable_shared_from_this<ProtocolWrapper> {
 public:
  /// Wraps `wrapped` for `owner`, which is told of the connection (registerProtocol,
  /// unregisterProtocol). `owner` may be null for a wrapper made outside a factory (as
  /// Twisted's startTLS makes its TLS protocol); `wrapped` may be null only for a wrapper
  /// that wrapConnected() will insert.
  ProtocolWrapper(std::shared_ptr<WrappingFactory> owner, std::shared_ptr<Protocol> wrapped);
  ~ProtocolWrapper() override;

  ProtocolWrapper(const ProtocolWrapper&) = delete;             ///< Not copyable.
  ProtocolWrapper& operator=(const ProtocolWrapper&) = delete;  ///< Not copyable.

  /// Inserts this wrapper, made with a null wrapped protocol, between the connected
  /// protocol `connected` and its transport on a live connection (what startTLS does):
  /// the transport delivers to this wrapper from now on, `connected` writes to this
  /// wrapper, and this wrapper's connectionMade runs (the wrapped protocol's does not run
  /// again). Bytes `connected` wrote before stay queued in the transport and go first.
  /// @throws std::logic_error if `connected` is not connected, if this wrapper wraps a
  /// protocol already, or as Transport::replaceProtocol (nothing is changed then).
  void wrapConnected(Protocol& connected);

  // ---- Protocol side: what the real transport calls ------------------------------------

  /// Registers with the factory, then connects the wrapped protocol to this wrapper (its
  /// connectionMade runs), unless wrapConnected() inserted this wrapper.
  void connectionMade() override;

  /// Hands the bytes to the wrapped protocol.
  void dataReceived(Bytes data) override;

  /// Unregisters from the factory, then delivers `reason` to the wrapped protocol (once)
  /// and lets it go.
  void connectionLost(const Failure& reason) override;

  // ---- Transport side: what the wrapped protocol's transport() calls ------------------
  // Each default passes the call to the real transport; override to intercept.

  /// The wrapped protocol writes `data`.
  void write(Bytes data) override;
  /// The wrapped protocol writes several buffers.
  void writeSequence(std::span<const Bytes> data) override;
  /// The wrapped protocol closes the connection.
  void loseConnection() override;
  /// The wrapped protocol aborts the connection.
  void abortConnection() override;
  /// The wrapped protocol half-closes its writing side.
  void loseWriteConnection() override;
  /// The real transport's peer address (none once it is gone).
  Address getPeer() const override;
  /// The real transport's own address (none once it is gone).
  Address getHost() const override;
  /// True while this wrapper's connection is up and the real transport is connected.
  bool connected() const override;
  /// The real transport's disconnecting().
  bool disconnecting() const override;
  /// The real transport's writeBufferSize().
  std::size_t writeBufferSize() const override;
  /// Passed on to the real transport.
  /// @throws std::invalid_argument if `low` is above `high`.
  void setWriteWatermarks(std::size_t high, std::size_t low) override;
  /// Passed on to the real transport.
  /// @throws std::logic_error if the real transport is gone or has no queue of its own.
  void setMaxQueuedOutput(std::size_t bytes) override;
  /// The real transport's maxQueuedOutput().
  /// @throws std::logic_error if the real transport is gone or has no queue of its own.
  std::size_t maxQueuedOutput() const override;
  /// The wrapped protocol registers a producer (with the real transport); a producer
  /// registered once the real transport is gone is stopped, as every transport does.
  /// @throws std::logic_error as Transport::registerProducer.
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override;
  /// The wrapped protocol unregisters its producer.
  void unregisterProducer() override;
  /// The wrapped protocol pauses reading (its transport as a push producer).
  void pauseProducing() override;
  /// The wrapped protocol resumes reading.
  void resumeProducing() override;
  /// The wrapped protocol stops its transport for good (closes it).
  void stopProducing() override;
  /// Passed on to the real transport.
  /// @throws std::logic_error if the real transport is gone or is not TCP.
  void setTcpNoDelay(bool enabled) override;
  /// The real transport's getTcpNoDelay().
  /// @throws std::logic_error if the real transport is gone or is not TCP.
  bool getTcpNoDelay() const override;
  /// Passed on to the real transport.
  /// @throws std::logic_error if the real transport is gone or is not TCP.
  void setTcpKeepAlive(bool enabled) override;
  /// The real transport's getTcpKeepAlive().
  /// @throws std::logic_error if the real transport is gone or is not TCP.
  bool getTcpKeepAlive() const override;
  /// The real transport's reactor (nullptr once it is gone).
  Reactor* reactor() const noexcept override;
  /// The real transport's clock (nullptr once it is gone).
  IReactorTime* clock() const noexcept override;
  /// Makes `next` the wrapped protocol in place of `current` (a wrapper inserted above
  /// this one by wrapConnected, such as startTLS over a policy).
  /// @throws std::invalid_argument if `next` is null.
  /// @throws std::logic_error if `current` is not the wrapped protocol or the
  /// connection is lost.
  std::shared_ptr<Protocol> replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) override;

  // ---- Inspection ----------------------------------------------------------------------

  /// The protocol this wrapper wraps, as the shared pointer the wrapper holds (null once
  /// the connection is lost).
  const std::shared_ptr<Protocol>& wrappedProtocolPtr() const noexcept { return wrapped_; }

  /// The factory that made this wrapper, or nullptr for one made without a factory.
  WrappingFactory* wrappingFactory() const noexcept { return factory_.get(); }

  /// The transport the wrapped protocol sees (its transport()): this wrapper.
  std::shared_ptr<Transport> wrapperTransport() { return shared_from_this(); }

 protected:
  /// The real transport, or nullptr before the connection or once it is released.
  Transport* lower() const noexcept { return transportPtr().get(); }

 private:
  /// How this wrapper came onto its connection.
  enum class WrapperStart : std::uint8_t {
    newConnection,  ///< connectionMade connects the wrapped protocol
    liveConnection  ///< wrapConnected inserted it: the wrapped protocol is connected already
  };

  Transport& need(const char* what) const;

  std::shared_ptr<WrappingFactory> factory_;
  std::shared_ptr<Protocol> wrapped_;
  WrapperStart start_ = WrapperStart::newConnection;
};

/// Wraps every protocol another factory builds in a ProtocolWrapper (Twisted's
/// WrappingFactory), and keeps the set of live connections, so that policies compose: a
/// WrappingFactory may wrap another one. A client's events (startedConnecting,
/// clientConnectionFailed, clientConnectionLost) go on to the wrapped factory when it is
/// a ClientFactory, so a WrappingFactory serves connectTCP as well as listenTCP.
///
/// @code
/// auto echo = torsion::Factory::forProtocol<Echo>();
/// auto limited = std::make_shared<torsion::protocols::LimitConnectionsByPeer>(echo, 5);
/// auto throttled = std::make_shared<torsion::protocols::ThrottlingFactory>(reactor, limited);
/// reactor.listenTCP(8000, throttled);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class WrappingFactory : public ClientFactory {
 public:
  /// Wraps `wrapped`.
  /// @throws std::invalid_argument if `wrapped` is null.
  explicit WrappingFactory(std::shared_ptr<Factory> wrapped);

  /// Asks the wrapped factory for a protocol and wraps it (wrapProtocol); nullptr, the
  /// refusal, passes through.
  std::shared_ptr<Protocol> buildProtocol(const Address& address) override;

  /// Starts the wrapped factory (its doStart).
  void startFactory() override;

  /// Stops the wrapped factory (its doStop).
  void stopFactory() override;

  /// Passed on to the wrapped factory if it is a ClientFactory.
  void startedConnecting(Connector& connector) override;

  /// Passed on to the wrapped factory if it is a ClientFactory.
  void clientConnectionFailed(Connector& connector, const Failure& reason) override;

  /// Passed on to the wrapped factory if it is a ClientFactory.
  void clientConnectionLost(Connector& connector, const Failure& reason) override;

  /// A wrapper's connection was made; it is counted in connectionCount().
  virtual void registerProtocol(ProtocolWrapper& wrapper);

  /// A wrapper's connection was lost.
  virtual void unregisterProtocol(ProtocolWrapper& wrapper);

  /// How many wrapped connections are live (made and not yet lost).
  std::size_t connectionCount() const noexcept { return live_.size(); }

  /// The live wrappers, in no particular order: a copy, so that callers may close
  /// connections while walking it.
  std::vector<ProtocolWrapper*> liveProtocols() const { return {live_.begin(), live_.end()}; }

  /// The factory whose protocols are wrapped.
  const std::shared_ptr<Factory>& wrappedFactory() const noexcept { return wrapped_; }

 protected:
  /// Makes the wrapper for one protocol; override to use a ProtocolWrapper subclass.
  virtual std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped);

  /// This factory as the shared pointer its wrappers hold.
  std::shared_ptr<WrappingFactory> self() { return std::static_pointer_cast<WrappingFactory>(shared_from_this()); }

 private:
  std::shared_ptr<Factory> wrapped_;
  std::unordered_set<ProtocolWrapper*> live_;
};

/// Hands the live connection of `current` to `next`, for a protocol whose job ends once
/// the connection is set up (an endpoint's connect, an HTTP proxy's CONNECT tunnel):
/// the transport delivers to `next` from now on (Transport::replaceProtocol, the step
/// ProtocolWrapper::wrapConnected takes too), `next`'s connectionMade runs with the same
/// transport, and then `firstBytes`, bytes `current` received but that belong to `next`,
/// are `next`'s first dataReceived. `current` is off the connection: its connected() is
/// false, its callLater timers are cancelled and its connectionLost never runs; the
/// transport's reference to it goes to the reactor's release step, so it may call this
/// from inside its own hooks.
///
/// Unlike a ProtocolWrapper, nothing stays between the transport and `next`: a
/// half-closeable `next` stays half-closeable, and `next` may later startTLS.
///
/// @code
/// void connectionMade() override {  // a protocol that only sets the connection up
///   torsion::switchProtocol(*this, std::make_shared<Chat>());
/// }
/// @endcode
/// @throws std::invalid_argument if `next` is null.
/// @throws std::logic_error if `current` is not connected, or as
/// Transport::replaceProtocol (nothing is changed then).
void switchProtocol(Protocol& current, std::shared_ptr<Protocol> next, Bytes firstBytes = {});

}  // namespace torsion
