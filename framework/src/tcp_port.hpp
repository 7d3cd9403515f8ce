// Internal. TcpPort: a listening socket that accepts connections for a Factory. Also
// serves Unix stream sockets (listenUNIX).
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/factory.hpp>
#include <torsion/selectable.hpp>
#include <torsion/transport.hpp>

#include <memory>

#include "reactor_core.hpp"
#include "socket_ops.hpp"

namespace torsion::detail {

class StreamPort final : public ListeningPort, public Selectable, public ReactorHandle {
 public:
  /// Takes a bound, listening, non-blocking socket; starts accepting at once.
  static std::shared_ptr<StreamPort> start(ReactorCore& core, int fd, std::shared_ptr<Factory> factory, bool isTcp,
                                           std::string unixPath);
  StreamPort(ReactorCore& core, int fd, std::shared_ptr<Factory> factory, bool isTcp, std::string unixPath);
  ~StreamPort() override;
  StreamPort(const StreamPort&) = delete;
  StreamPort& operator=(const StreamPort&) = delete;

  void stopListening() override;
  Address getHost() const override { return host_; }
  bool listening() const override { return fd_ >= 0; }

  int fileno() const override { return fd_; }
  void doRead() override;
  void closeForShutdown() override { stopListening(); }

  /// How many connections one readiness event may accept before the loop moves on.
  static constexpr int kAcceptsPerEvent = 16;
  /// How long accepting pauses after the process ran out of descriptors.
  static constexpr double kDescriptorExhaustionPause = 0.1;

 private:
  void acceptOne(int fd, const sockaddr* address, socklen_t length);
  void survivePerProcessLimit();

  ReactorCore& core_;
  int fd_;
  std::shared_ptr<Factory> factory_;
  bool isTcp_;
  // Whether buildProtocol is the plain Factory's, which ignores the peer's address: then
  // no Address (with its text) is built per accepted connection. Known from the
  // factory's exact type, fixed for the port's life.
  bool factoryReadsPeer_;
  std::string unixPath_;
  Address host_;
  DelayedCall resumeAccepting_;
};

/// Creates, binds and listens; throws CannotListenError naming the address and reason.
int listenStreamSocket(const std::string& interface, std::uint16_t port, int backlog,
                       PortSharing sharing = PortSharing::exclusive);

}  // namespace torsion::detail
