// Public. ProtocolWrapper and WrappingFactory: how policies sit between a transport and a protocol.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>
#include <torsion/transport.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <unordered_set>
#include <vector>

namespace torsion::protocols {

class WrappingFactory;

/// Stands between a real transport and a wrapped protocol (Twisted's ProtocolWrapper):
/// it is the protocol of the real transport and, through a small transport object it
/// owns, the transport of the wrapped protocol. Everything passes through unchanged
/// unless a subclass overrides the transport-side hooks (write, loseConnection,
/// registerProducer, pauseProducing ...): that is how policies such as ThrottlingFactory
/// count bytes or pause producers. Producers and flow control pass through: a producer
/// the wrapped protocol registers is registered with the real transport, and the
/// wrapped protocol's pause and resume of its transport pause and resume the real one.
///
/// The wrapped protocol's connectionMade runs inside the wrapper's, and its
/// connectionLost exactly once, inside the wrapper's (after the factory's
/// unregisterProtocol); its callLater timers die then, as on a real transport.
/// A protocol that outlives the wrapper finds its transport dead: writes are dropped and
/// connected() is false.
///
/// The wrapper is not half-closeable: the peer's FIN ends the connection for the
/// wrapped protocol too.
///
/// Thread safety: use only on the thread that runs its reactor.
class ProtocolWrapper : public Protocol {
 public:
  /// Wraps `wrapped` for `owner`, which is told of the connection (registerProtocol,
  /// unregisterProtocol).
  /// @throws std::invalid_argument if either is null.
  ProtocolWrapper(std::shared_ptr<WrappingFactory> owner, std::shared_ptr<Protocol> wrapped);
  ~ProtocolWrapper() override;

  ProtocolWrapper(const ProtocolWrapper&) = delete;             ///< Not copyable.
  ProtocolWrapper& operator=(const ProtocolWrapper&) = delete;  ///< Not copyable.

  // ---- Protocol side: what the real transport calls ------------------------------------

  /// Registers with the factory, then connects the wrapped protocol to the wrapper's
  /// transport (its connectionMade runs).
  void connectionMade() override;

  /// Hands the bytes to the wrapped protocol.
  void dataReceived(Bytes data) override;

  /// Unregisters from the factory, then delivers `reason` to the wrapped protocol (once).
  void connectionLost(const Failure& reason) override;

  // ---- Transport side: what the wrapped protocol's transport() calls ------------------
  // Each default passes the call to the real transport; override to intercept.

  /// The wrapped protocol writes `data`.
  virtual void write(Bytes data);
  /// The wrapped protocol writes several buffers.
  virtual void writeSequence(std::span<const Bytes> data);
  /// The wrapped protocol closes the connection.
  virtual void loseConnection();
  /// The wrapped protocol aborts the connection.
  virtual void abortConnection();
  /// The wrapped protocol half-closes its writing side.
  virtual void loseWriteConnection();
  /// The wrapped protocol registers a producer.
  /// @throws std::logic_error as Transport::registerProducer.
  virtual void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming);
  /// The wrapped protocol unregisters its producer.
  virtual void unregisterProducer();
  /// The wrapped protocol pauses reading (its transport as a push producer).
  virtual void pauseProducing();
  /// The wrapped protocol resumes reading.
  virtual void resumeProducing();
  /// The wrapped protocol stops its transport for good (closes it).
  virtual void stopProducing();

  // ---- Inspection ----------------------------------------------------------------------

  /// The protocol this wrapper wraps.
  Protocol& wrappedProtocol() const noexcept { return *wrapped_; }

  /// The protocol this wrapper wraps, as the shared pointer the wrapper holds.
  const std::shared_ptr<Protocol>& wrappedProtocolPtr() const noexcept { return wrapped_; }

  /// The factory that made this wrapper.
  WrappingFactory& wrappingFactory() const noexcept { return *factory_; }

  /// The transport the wrapped protocol sees (its transport()).
  std::shared_ptr<Transport> wrapperTransport() const;

 private:
  class Facade;
  std::shared_ptr<WrappingFactory> factory_;
  std::shared_ptr<Protocol> wrapped_;
  std::shared_ptr<Facade> facade_;
};

/// Wraps every protocol another factory builds in a ProtocolWrapper (Twisted's
/// WrappingFactory), and keeps the set of live connections, so that policies compose: a
/// WrappingFactory may wrap another one.
///
/// @code
/// auto echo = torsion::Factory::forProtocol<Echo>();
/// auto limited = std::make_shared<torsion::protocols::LimitConnectionsByPeer>(echo, 5);
/// auto throttled = std::make_shared<torsion::protocols::ThrottlingFactory>(reactor, limited);
/// reactor.listenTCP(8000, throttled);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class WrappingFactory : public Factory {
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

}  // namespace torsion::protocols
