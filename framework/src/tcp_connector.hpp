// Internal. TcpConnector: an outgoing connection attempt (resolve, connect, time out) and
// the Connector a ClientFactory sees. Also connects Unix stream sockets.
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/factory.hpp>
#include <torsion/selectable.hpp>
#include <torsion/transport.hpp>

#include <optional>

#include "reactor_core.hpp"
#include "socket_ops.hpp"
#include "tcp_connection.hpp"

namespace torsion::detail {

class TcpConnector final : public Connector, public Selectable, public ReactorHandle, public ConnectionObserver {
 public:
  /// `unixPath` non-empty makes this a Unix-socket connector (host and port unused).
  TcpConnector(ReactorCore& core, std::string host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout, std::optional<Address> bindAddress, std::string unixPath);
  ~TcpConnector() override;
  TcpConnector(const TcpConnector&) = delete;
  TcpConnector& operator=(const TcpConnector&) = delete;

  // Connector
  void connect() override;
  void stopConnecting() override;
  void disconnect() override;
  Address getDestination() const override;
  State state() const override { return state_; }
  std::shared_ptr<Transport> transport() const override { return connection_; }

  // Selectable: writable means the handshake finished, one way or the other.
  int fileno() const override { return fd_; }
  void doWrite() override;

  void closeForShutdown() override;
  void connectionEnded(const Failure& reason) override;

 private:
  void resolve();
  void beginConnect(const SocketAddress& address);
  void connected();
  void failed(const Failure& reason);
  void closeSocket();

  ReactorCore& core_;
  std::string host_;
  std::uint16_t port_;
  std::shared_ptr<ClientFactory> factory_;
  double timeout_;
  std::optional<Address> bindAddress_;
  std::string unixPath_;
  State state_ = State::disconnected;
  bool factoryStarted_ = false;
  std::uint64_t attempt_ = 0;  // results of an abandoned resolution are ignored
  int fd_ = -1;
  Address peer_;
  DelayedCall timeoutCall_;
  std::shared_ptr<TcpConnection> connection_;
};

}  // namespace torsion::detail
