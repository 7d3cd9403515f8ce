#include "tcp_port.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <atomic>
#include <cerrno>
#include <typeinfo>

#include <torsion/detail/block_cache.hpp>
#include "socket_ops.hpp"
#include "tcp_connection.hpp"

namespace torsion::detail {

namespace {

// One descriptor held in reserve for the whole process: when accept fails with EMFILE,
// it is closed to make room for one accept whose connection is then closed at once, so
// the peer hears a clean refusal instead of hanging, and the listening socket stops
// being readable for that connection (otherwise level-triggered readiness would spin).
// Shared by every reactor in the process, hence atomic.
std::atomic<int> reserveDescriptor{-1};

void openReserve() {
  if (reserveDescriptor.load() >= 0) return;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int expected = -1;
  if (fd >= 0 && !reserveDescriptor.compare_exchange_strong(expected, fd)) ::close(fd);
}

}  // namespace

int listenStreamSocket(const std::string& interface, std::uint16_t port, int backlog, PortSharing sharing) {
  int fd = openBoundSocket(interface, port, SOCK_STREAM, sharing);
  if (::listen(fd, backlog) < 0) {
    int error = errno;
    ::close(fd);
    throw CannotListenError(interface, port, errorText(error));
  }
  return fd;
}

std::shared_ptr<StreamPort> StreamPort::start(ReactorCore& core, int fd, std::shared_ptr<Factory> factory, bool isTcp,
                                              std::string unixPath) {
  auto port = std::make_shared<StreamPort>(core, fd, std::move(factory), isTcp, std::move(unixPath));
  core.setInterest(*port, kReadable);  // may throw (select limit): the destructor closes
  openReserve();
  core.adopt(port);
  core.catchStopSignalsEarly();
  port->factory_->doStart();
  return port;
}

StreamPort::StreamPort(ReactorCore& core, int fd, std::shared_ptr<Factory> factory, bool isTcp, std::string unixPath)
    : core_(core),
      fd_(fd),
      factory_(std::move(factory)),
      isTcp_(isTcp),
      factoryReadsPeer_(typeid(*factory_) != typeid(Factory) && typeid(*factory_) != typeid(ClientFactory)),
      unixPath_(std::move(unixPath)) {
  host_ = localAddress(fd_);
}

StreamPort::~StreamPort() {
  if (fd_ >= 0) {
    core_.forget(*this);
    ::close(fd_);
  }
}

void StreamPort::stopListening() {
  if (fd_ < 0) return;
  cancelIfActive(resumeAccepting_);
  core_.forget(*this);
  ::close(fd_);
  fd_ = -1;
  if (!unixPath_.empty()) ::unlink(unixPath_.c_str());
  factory_->doStop();
  core_.release(*this);
}

void StreamPort::doRead() {
  for (int i = 0; i < kAcceptsPerEvent && fd_ >= 0; ++i) {
    SocketAddress peer;
    int fd = acceptSocket(fd_, peer);
    if (fd >= 0) {
      acceptOne(fd, peer.get(), peer.length);
      continue;
    }
    switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case EPERM: continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM: survivePerProcessLimit(); return;
      default: log::error("accept() on {} failed: {}", host_.toString(), errorText(errno)); return;
    }
  }
}

void StreamPort::acceptOne(int fd, const sockaddr* address, socklen_t length) {
  // The text of the peer's address is only made for a factory that may read it (a plain
  // Factory gets an empty one); the transport keeps the address as accept() gave it, and
  // getPeer converts it on demand.
  Address peer;
  if (!isTcp_) {
    peer = Address{Address::Family::unixSocket, unixPath_, 0};
  } else if (factoryReadsPeer_) {
    peer = toAddress(address, length);
  }
  std::shared_ptr<Protocol> protocol = buildProtocolOrRefuse(*factory_, peer);
  if (!protocol) {
    ::close(fd);  // refused by the factory
    return;
  }
  // The transport's block comes from a per-thread cache: connections churn in bursts.
  const CachedBlockAllocator<TcpConnection> allocator;
  auto connection = isTcp_
                        ? std::allocate_shared<TcpConnection>(allocator, core_, fd, PeerAddress::from(address, length))
                        : std::allocate_shared<TcpConnection>(allocator, core_, fd, peer, false);
  TcpConnection::start(connection, std::move(protocol), nullptr);
}

void StreamPort::survivePerProcessLimit() {
  const int error = errno;
  log::warn("accept() on {} failed: {}; dropping one pending connection and pausing accepts for {} s", host_.toString(),
            errorText(error), kDescriptorExhaustionPause);
  if (int reserve = reserveDescriptor.exchange(-1); reserve >= 0) {
    ::close(reserve);
    int fd = ::accept(fd_, nullptr, nullptr);
    if (fd >= 0) ::close(fd);
    openReserve();
  }
  // Stop watching the socket for a moment: with no descriptor to spare, a readable
  // listening socket would otherwise wake the loop again at once, forever.
  core_.setInterest(*this, 0);
  resumeAccepting_ = core_.timers().schedule(kDescriptorExhaustionPause, [this] {
    if (fd_ >= 0) core_.setInterest(*this, kReadable);
  });
}

}  // namespace torsion::detail
