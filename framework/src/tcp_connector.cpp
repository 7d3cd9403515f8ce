#include "tcp_connector.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <cerrno>
#include <stdexcept>

namespace torsion::detail {

namespace {

Failure connectFailure(int error) {
  if (error == ECONNREFUSED) return Failure(ConnectionRefusedError());
  if (error == ETIMEDOUT) return Failure(TimeoutError());
  return Failure(ConnectError("Connection failed: " + errorText(error)));
}

}  // namespace

TcpConnector::TcpConnector(ReactorCore& core, std::string host, std::uint16_t port,
                           std::shared_ptr<ClientFactory> factory, double timeout, std::optional<Address> bindAddress,
                           std::string unixPath)
    : core_(core),
      host_(std::move(host)),
      port_(port),
      factory_(std::move(factory)),
      timeout_(timeout),
      bindAddress_(std::move(bindAddress)),
      unixPath_(std::move(unixPath)) {}

TcpConnector::~TcpConnector() { closeSocket(); }

Address TcpConnector::getDestination() const {
  if (!unixPath_.empty()) return {Address::Family::unixSocket, unixPath_, 0};
  auto numeric = numericAddress(host_, port_);
  Address::Family family = numeric && numeric->family() == AF_INET6 ? Address::Family::ipv6 : Address::Family::ipv4;
  return {family, host_, port_};
}

void TcpConnector::connect() {
  if (state_ != State::disconnected) throw std::logic_error("Connector::connect: can't connect in this state");
  state_ = State::connecting;
  core_.adopt(std::static_pointer_cast<TcpConnector>(shared_from_this()));
  if (!factoryStarted_) {
    factory_->doStart();
    factoryStarted_ = true;
  }
  const std::uint64_t attempt = ++attempt_;
  if (timeout_ > 0) {
    timeoutCall_ = core_.timers().schedule(timeout_, [this, attempt] {
      if (attempt == attempt_ && state_ == State::connecting) failed(Failure(TimeoutError()));
    });
  }
  try {
    factory_->startedConnecting(*this);
  } catch (...) {
    ReactorCore::logUnhandled("startedConnecting", std::current_exception());
  }
  // Start the attempt on the loop, not inside the caller's call, as Twisted does.
  auto self = std::static_pointer_cast<TcpConnector>(shared_from_this());
  core_.callSoon([self, attempt] {
    if (attempt == self->attempt_ && self->state_ == State::connecting) self->resolve();
  });
}

void TcpConnector::resolve() {
  if (!unixPath_.empty()) {
    const auto address = unixAddress(unixPath_);
    if (!address) {
      failed(Failure(ConnectError("Unix socket path too long: " + unixPath_)));
      return;
    }
    beginConnect(*address);
    return;
  }
  if (auto numeric = numericAddress(host_, port_)) {
    beginConnect(*numeric);
    return;
  }
  // A name: resolve on the thread pool so the loop never blocks on DNS.
  std::weak_ptr<TcpConnector> weak = std::static_pointer_cast<TcpConnector>(shared_from_this());
  const std::uint64_t attempt = attempt_;
  ThreadCalls& back = core_.threadCalls();
  core_.callInThread([weak, attempt, host = host_, port = port_, &back] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    std::optional<SocketAddress> address;
    std::string error;
    if (status == 0 && found != nullptr) {
      // One address is tried, as Twisted's connectTCP does.
      SocketAddress first = preferredAddress(*found);
      if (first.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&first.storage)->sin_port = htons(port);
      if (first.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&first.storage)->sin6_port = htons(port);
      address = first;
    } else {
      error = "address '" + host + "' not found: " + (status == EAI_SYSTEM ? errorText(errno) : ::gai_strerror(status));
    }
    if (found) ::freeaddrinfo(found);
    back.push([weak, attempt, address, error] {
      auto self = weak.lock();
      if (!self || attempt != self->attempt_ || self->state_ != State::connecting) return;
      if (address)
        self->beginConnect(*address);
      else
        self->failed(Failure(DNSLookupError(error)));
    });
  });
}

void TcpConnector::beginConnect(const SocketAddress& address) {
  peer_ = unixPath_.empty() ? toAddress(address.get(), address.length) : getDestination();
  fd_ = openSocket(address.family(), SOCK_STREAM);
  if (fd_ < 0) {
    failed(Failure(ConnectError("Couldn't create a socket: " + errorText(errno))));
    return;
  }
  if (bindAddress_) {
    auto local = numericAddress(bindAddress_->host, bindAddress_->port);
    if (!local || ::bind(fd_, local->get(), local->length) < 0) {
      failed(Failure(ConnectError("Couldn't bind to " + bindAddress_->toString() + ": " +
                                  (local ? errorText(errno) : std::string("not a numeric address")))));
      return;
    }
  }
  int result;
  do {
    result = ::connect(fd_, address.get(), address.length);
  } while (result < 0 && errno == EINTR);
  if (result < 0 && errno != EINPROGRESS && errno != EAGAIN) {
    failed(connectFailure(errno));
    return;
  }
  try {
    core_.setInterest(*this, kWritable);  // writable = the handshake is over
  } catch (...) {
    failed(Failure::current());
  }
}

void TcpConnector::doWrite() {
  if (int error = core_.takeSocketError(fd_); error != 0) {
    failed(connectFailure(error));
    return;
  }
  connected();
}

void TcpConnector::connected() {
  cancelIfActive(timeoutCall_);
  core_.forget(*this);
  int fd = fd_;
  fd_ = -1;
  std::shared_ptr<Protocol> protocol = buildProtocolOrRefuse(*factory_, peer_);
  if (!protocol) {
    ::close(fd);
    failed(Failure(ConnectError("the factory refused to build a protocol for " + peer_.toString())));
    return;
  }
  auto connection = std::make_shared<TcpConnection>(core_, fd, peer_, unixPath_.empty());
  state_ = State::connected;
  connection_ = connection;
  auto self = std::static_pointer_cast<TcpConnector>(shared_from_this());
  if (!TcpConnection::start(connection, std::move(protocol), self)) {
    connection_.reset();
    failed(Failure(BackendLimitError("the reactor's backend refused the connection's descriptor")));
  }
}

void TcpConnector::failed(const Failure& reason) {
  closeSocket();
  cancelIfActive(timeoutCall_);
  state_ = State::disconnected;
  ++attempt_;
  auto self = std::static_pointer_cast<TcpConnector>(shared_from_this());
  try {
    factory_->clientConnectionFailed(*this, reason);
  } catch (...) {
    ReactorCore::logUnhandled("clientConnectionFailed", std::current_exception());
  }
  if (state_ == State::disconnected) {  // the factory did not try again
    if (factoryStarted_) {
      factoryStarted_ = false;
      factory_->doStop();
    }
    core_.release(*this);
  }
}

void TcpConnector::connectionEnded(const Failure& reason) {
  connection_.reset();
  state_ = State::disconnected;
  auto self = std::static_pointer_cast<TcpConnector>(shared_from_this());
  try {
    factory_->clientConnectionLost(*this, reason);
  } catch (...) {
    ReactorCore::logUnhandled("clientConnectionLost", std::current_exception());
  }
  if (state_ == State::disconnected) {
    if (factoryStarted_) {
      factoryStarted_ = false;
      factory_->doStop();
    }
    core_.release(*this);
  }
}

void TcpConnector::stopConnecting() {
  if (state_ != State::connecting) throw std::logic_error("Connector::stopConnecting: not connecting");
  failed(Failure(ConnectingCancelledError()));
}

void TcpConnector::disconnect() {
  if (state_ == State::connecting) {
    stopConnecting();
  } else if (state_ == State::connected && connection_) {
    connection_->loseConnection();
  }
}

void TcpConnector::closeForShutdown() {
  if (state_ == State::connecting) failed(Failure(ConnectingCancelledError("The reactor was destroyed.")));
  // A connected connector's connection is a handle of its own and is closed as such.
}

void TcpConnector::closeSocket() {
  if (fd_ < 0) return;
  core_.forget(*this);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace torsion::detail
