// Internal. DatagramPort: a UDP socket and the DatagramTransport its protocol writes to.
#pragma once

#include <torsion/selectable.hpp>
#include <torsion/udp.hpp>

#include <memory>
#include <optional>

#include "reactor_core.hpp"
#include "socket_ops.hpp"

namespace torsion::detail {

class DatagramPort final : public DatagramTransport,
                           public Selectable,
                           public ReactorHandle,
                           public std::enable_shared_from_this<DatagramPort> {
 public:
  DatagramPort(ReactorCore& core, int fd, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize);
  ~DatagramPort() override;
  DatagramPort(const DatagramPort&) = delete;
  DatagramPort& operator=(const DatagramPort&) = delete;

  static std::shared_ptr<DatagramPort> open(ReactorCore& core, std::uint16_t port,
                                            std::shared_ptr<DatagramProtocol> protocol, const std::string& interface,
                                            std::size_t maxPacketSize);

  void write(Bytes data, const Address& to) override;
  void write(Bytes data) override;
  void connect(const Address& address) override;
  Address getHost() const override { return host_; }
  void stopListening() override;
  bool listening() const override { return fd_ >= 0; }

  int fileno() const override { return fd_; }
  void doRead() override;
  void closeForShutdown() override { stopListening(); }

  /// Datagrams read per readiness event before the loop moves on to others.
  static constexpr int kReadsPerEvent = 32;

 private:
  void send(Bytes data, const SocketAddress* to);

  ReactorCore& core_;
  int fd_;
  std::shared_ptr<DatagramProtocol> protocol_;
  std::size_t maxPacketSize_;
  Address host_;
  std::optional<SocketAddress> connectedTo_;
  Address connectedAddress_;
};

}  // namespace torsion::detail
