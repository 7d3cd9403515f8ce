// Public. Protocol: what user code subclasses to speak over a connection.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/failure.hpp>
#include <torsion/transport.hpp>

#include <memory>

namespace torsion {

class Factory;
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
/// An exception that escapes a hook is logged and the connection is aborted; the
/// reactor keeps running.
///
/// @code
/// class Echo : public torsion::Protocol {
///   void dataReceived(torsion::Bytes data) override { transport().write(data); }
/// };
/// @endcode
class Protocol {
 public:
  virtual ~Protocol() = default;

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

 private:
  friend struct detail::ProtocolAccess;
  std::shared_ptr<Transport> transport_;
  bool connected_ = false;
};

/// A protocol that can live with one direction of the connection closed (Twisted's
/// IHalfCloseableProtocol). Without it, the peer's FIN closes the whole connection;
/// with it, readConnectionLost is called and writing may go on until loseConnection.
class HalfCloseableProtocol : public Protocol {
 public:
  /// The peer will send no more data (it half-closed); writing is still possible.
  virtual void readConnectionLost() = 0;

  /// Our side's loseWriteConnection has taken effect: the FIN was sent.
  virtual void writeConnectionLost() {}
};

}  // namespace torsion
