// Public. UDP: DatagramProtocol and the DatagramTransport it writes to.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>

#include <cstddef>
#include <memory>

namespace torsion {

class DatagramTransport;

/// The base class of UDP protocols (Twisted's DatagramProtocol). Subclass it, override
/// datagramReceived, and pass an instance to Reactor::listenUDP.
///
/// @code
/// class UdpEcho : public torsion::DatagramProtocol {
///   void datagramReceived(torsion::Bytes data, const torsion::Address& from) override {
///     transport().write(data, from);
///   }
/// };
/// reactor.listenUDP(9999, std::make_shared<UdpEcho>(), "127.0.0.1");
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class DatagramProtocol {
 public:
  virtual ~DatagramProtocol() = default;

  /// The port is open: transport() is usable.
  virtual void startProtocol() {}

  /// The port was closed (stopListening, or the reactor went away).
  virtual void stopProtocol() {}

  /// One datagram arrived from `from`. `data` is valid only during this call.
  virtual void datagramReceived(Bytes data, const Address& from) = 0;

  /// In connected mode, the peer's port was closed (an ICMP port unreachable came back
  /// for an earlier write).
  virtual void connectionRefused() {}

  /// The transport this protocol writes to.
  /// @throws std::logic_error before the port was opened.
  DatagramTransport& transport() const;

  /// Attaches the transport and calls startProtocol; called by listenUDP.
  void makeConnection(std::shared_ptr<DatagramTransport> transport);

 private:
  std::shared_ptr<DatagramTransport> transport_;
};

/// A UDP socket, handed to a DatagramProtocol (Twisted's IUDPTransport). Use it only
/// on the reactor's thread.
///
/// Thread safety: use only on the thread that runs its reactor.
class DatagramTransport {
 public:
  virtual ~DatagramTransport() = default;

  /// Sends one datagram to `to`. A datagram the socket buffer cannot take right now is
  /// dropped, as UDP allows.
  /// @throws MessageLengthError if the datagram is larger than the system allows.
  /// @throws std::logic_error in connected mode if `to` is not the connected address.
  virtual void write(Bytes data, const Address& to) = 0;

  /// Sends one datagram to the connected address.
  /// @throws std::logic_error if not connected; MessageLengthError as above.
  virtual void write(Bytes data) = 0;

  /// Connected mode: datagrams go to and come only from `address` (numeric), and a
  /// closed peer port is reported through DatagramProtocol::connectionRefused.
  /// @throws std::invalid_argument if the address is not numeric or of another family.
  virtual void connect(const Address& address) = 0;

  /// The address the socket is bound to, with the real port when 0 was asked for.
  virtual Address getHost() const = 0;

  /// Closes the socket; the protocol's stopProtocol runs. Calling it again does nothing.
  virtual void stopListening() = 0;

  /// True until stopListening.
  virtual bool listening() const = 0;
};

}  // namespace torsion
