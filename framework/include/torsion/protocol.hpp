// Public. Protocol: what user code subclasses to speak over a connection.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/failure.hpp>
#include <torsion/lifetime.hpp>
#include <torsion/transport.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace torsion {

class Factory;
class Reactor;
namespace detail {
struct ProtocolAccess;
}

/// The base class of every stream protocol, with Twisted's hooks. Subclass it, override
/// the hooks you need, and write with transport().
///
/// Lifetime: a connection's transport owns its protocol, and the protocol keeps its
/// transport alive; the reactor releases the connection after connectionLost returns,
/// never during a dispatch. Hold a std::shared_ptr to a protocol to keep it longer.
///
/// Callbacks that capture `this` and may run later are bound to the connection: use
/// callLater for timers and whileConnected for Deferred callbacks and anything else.
/// When connectionLost has returned (or the protocol is destroyed first) the timers are
/// cancelled and the bound callbacks do nothing, so `[this]` in them is always safe.
/// The guide docs/lifetimes.md shows the whole pattern.
///
/// An exception that escapes a hook is logged and the connection is aborted; the
/// reactor keeps running.
///
/// @code
/// class Echo : public torsion::Protocol {
///   void dataReceived(torsion::Bytes data) override { transport().write(data); }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class Protocol {
 public:
  Protocol() = default;
  virtual ~Protocol() = default;

  Protocol(const Protocol&) = delete;             ///< Not copyable: timers are bound to this object.
  Protocol& operator=(const Protocol&) = delete;  ///< Not copyable.

  /// Attaches the transport and calls connectionMade. Called by the transport; tests
  /// call it with a testing::StringTransport.
  virtual void makeConnection(std::shared_ptr<Transport> transport);

  /// The connection is up; transport() is usable.
  virtual void connectionMade() {}

  /// Bytes arrived. `data` is valid only during this call; it may hold any part of
  /// what the peer sent: TCP keeps no message boundaries.
  virtual void dataReceived(Bytes data) { (void)data; }

  /// The connection is gone: `reason` is ConnectionDone for a clean close,
  /// ConnectionLost (or ConnectionAborted) otherwise. Called exactly once per
  /// connection that was made.
  virtual void connectionLost(const Failure& reason) { (void)reason; }

  /// The transport this protocol writes to.
  /// @throws std::logic_error before makeConnection.
  Transport& transport() const;

  /// The transport as a shared pointer (null before makeConnection).
  const std::shared_ptr<Transport>& transportPtr() const noexcept { return transport_; }

  /// True between makeConnection and connectionLost.
  bool connected() const noexcept { return connected_; }

  /// The factory that built this protocol (set by Factory::buildProtocol), or null.
  std::shared_ptr<Factory> factory;

  /// The reactor this protocol's connection runs on (its transport's), so that a
  /// protocol needs no Reactor handed to its constructor: for deferToThread, connecting
  /// elsewhere, stop().
  /// @throws std::logic_error before makeConnection, or if the transport has no reactor
  /// (testing::StringTransport): code that only needs time should use clock().
  Reactor& reactor() const;

  /// The clock of this protocol's timers: its reactor, or, under a
  /// testing::StringTransport, the testing::Clock given to the transport's setClock.
  /// @throws std::logic_error before makeConnection, or if the transport has no clock.
  IReactorTime& clock() const;

  /// Schedules `fn` on clock() like IReactorTime::callLater, bound to this connection:
  /// it is cancelled when connectionLost has returned, or when the protocol is
  /// destroyed, whichever comes first, so `fn` may capture `this`. The handle may be
  /// cancelled or reset as usual; it is inactive if the connection is already over.
  /// @throws std::logic_error as clock(); std::invalid_argument as callLater.
  /// @code
  /// void connectionMade() override {
  ///   idle_ = callLater(60, [this] { transport().loseConnection(); });
  /// }
  /// void dataReceived(torsion::Bytes data) override {
  ///   if (idle_.active()) idle_.reset(60);  // reset throws once the call has run
  ///   ...
  /// }
  /// @endcode
  DelayedCall callLater(double delaySeconds, std::function<void()> fn);

  /// Wraps `fn` (which may capture `this`) so that it runs only until connectionLost has
  /// returned and while the protocol exists; later calls do nothing, or, if `fn` returns
  /// a value, throw CancelledError (see BoundCallback). For Deferred callbacks and
  /// errbacks, LoopingCall functions and results coming back from threads.
  /// @code
  /// torsion::deferToThread(reactor(), [key] { return slowLookup(key); })
  ///     .addCallback(whileConnected([this](std::string value) { sendLine(value); }));
  /// @endcode
  template <class F>
  BoundCallback<std::decay_t<F>> whileConnected(F&& fn) {
    return lifetime_.bind(std::forward<F>(fn));
  }

 private:
  friend struct detail::ProtocolAccess;
  friend class HalfCloseableProtocol;
  std::shared_ptr<Transport> transport_;
  bool connected_ = false;
  bool halfCloseable_ = false;  // set by HalfCloseableProtocol: transports ask without RTTI
  Lifetime lifetime_;           // ended by the transport once connectionLost has returned
};

/// Tells `protocol` its connection is gone, in the order every transport uses:
/// connected() becomes false, connectionLost(reason) runs, then the protocol's lifetime
/// ends (its callLater timers are cancelled and its whileConnected callbacks disarmed),
/// even when connectionLost throws; the exception then goes on to the caller. For
/// transports written outside the framework, such as protocols::ProtocolWrapper; call it
/// once per connection.
void deliverConnectionLost(Protocol& protocol, const Failure& reason);

/// A protocol that can live with one direction of the connection closed (Twisted's
/// IHalfCloseableProtocol). Without it, the peer's FIN closes the whole connection;
/// with it, readConnectionLost is called and writing may go on until loseConnection.
///
/// Thread safety: use only on the thread that runs its reactor.
class HalfCloseableProtocol : public Protocol {
 public:
  /// Marks the protocol as half-closeable, so that a transport knows it from a flag
  /// rather than a dynamic_cast on every connection's end.
  HalfCloseableProtocol() noexcept { halfCloseable_ = true; }

  /// The peer will send no more data (it half-closed); writing is still possible.
  virtual void readConnectionLost() = 0;

  /// Our side's loseWriteConnection has taken effect: the FIN was sent.
  virtual void writeConnectionLost() {}
};

}  // namespace torsion
