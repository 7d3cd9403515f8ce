#include "tcp_connection.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <cerrno>
#include <stdexcept>

#include "protocol_access.hpp"

namespace torsion::detail {

std::shared_ptr<Protocol> buildProtocolOrRefuse(Factory& factory, const Address& peer) {
  try {
    return factory.buildProtocol(peer);
  } catch (...) {
    ReactorCore::logUnhandled("buildProtocol", std::current_exception());
    return nullptr;
  }
}

TcpConnection::TcpConnection(ReactorCore& core, int fd, const Address& peer, bool isTcp)
    : core_(core), fd_(fd), isTcp_(isTcp), peer_(PeerAddress::from(peer)) {
  if (peer.family == Address::Family::unixSocket) extras().unixPeer = peer;
}

TcpConnection::Extras& TcpConnection::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>(core_.chunkPool());
  return *extras_;
}

Address TcpConnection::getPeer() const {
  if (extras_ && extras_->unixPeer.family == Address::Family::unixSocket) return extras_->unixPeer;
  return peer_.toAddress();
}

TcpConnection::~TcpConnection() {
  if (fd_ >= 0) {
    core_.forget(*this);
    ::close(fd_);
  }
}

bool TcpConnection::start(const std::shared_ptr<TcpConnection>& connection, std::shared_ptr<Protocol> protocol,
                          std::shared_ptr<ConnectionObserver> observer) {
  try {
    connection->core_.setInterest(*connection, kReadable);
  } catch (const std::exception& error) {
    log::error("torsion: dropping connection from {}: {}", connection->getPeer().toString(), error.what());
    return false;  // the destructor closes the descriptor
  }
  connection->core_.adopt(connection);
  connection->connected_ = true;
  connection->protocol_ = std::move(protocol);
  if (observer) connection->extras().observer = std::move(observer);
  connection->halfCloseable_ = dynamic_cast<HalfCloseableProtocol*>(connection->protocol_.get()) != nullptr;
  connection->guarded("connectionMade", [&] { connection->protocol_->makeConnection(connection); });
  return true;
}

template <class Hook>
bool TcpConnection::guarded(const char* hook, Hook&& call) {
  try {
    call();
    return true;
  } catch (...) {
    Failure failure = Failure::current();
    log::error("Unhandled exception in protocol {} (connection to {}), dropping the connection: {}", hook,
               getPeer().toString(), failure.toString());
    connectionLostSoon(failure);
    return false;
  }
}

// ---------------------------------------------------------------- reading

void TcpConnection::doRead() {
  if (closing_) return;
  char* buffer = core_.readBuffer();
  ssize_t received;
  do {
    received = ::recv(fd_, buffer, ReactorCore::kReadBufferSize, 0);
  } while (received < 0 && errno == EINTR);
  if (received > 0) {
    // Hold a reference: the protocol may drop the last one to us from inside.
    auto keep = self();
    guarded("dataReceived", [&] { protocol_->dataReceived(Bytes(buffer, static_cast<std::size_t>(received))); });
    return;
  }
  if (received == 0) {
    // A reset whose error the backend's wait consumed (libkqueue) reads as a clean end.
    if (int error = core_.takeCarriedError(fd_); error != 0) {
      connectionLostNow(Failure(ConnectionLost(errorText(error))));
      return;
    }
    handleEndOfInput();
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return;
  connectionLostNow(Failure(ConnectionLost(errorText(errno))));
}

void TcpConnection::handleEndOfInput() {
  if (!halfCloseable_) {
    connectionLostNow(Failure(ConnectionDone()));
    return;
  }
  readClosed_ = true;
  updateInterest();
  auto keep = self();
  HalfCloseableProtocol* half = halfCloseable();
  guarded("readConnectionLost", [&] { half->readConnectionLost(); });
  // A half-closeable protocol hears of each direction closing, as in Twisted; once both
  // are closed the connection is done.
  if (writeClosed_ && !closing_) connectionLostNow(Failure(ConnectionDone()));
}

void TcpConnection::pauseProducing() {
  readPaused_ = true;
  updateInterest();
}

void TcpConnection::resumeProducing() {
  if (disconnecting_) return;  // as Twisted: a connection that is closing never reads again
  readPaused_ = false;
  updateInterest();
}

// ---------------------------------------------------------------- writing

void TcpConnection::write(Bytes data) {
  if (!connected_ || disconnecting_ || closing_ || writeCloseRequested_ || data.empty()) return;
  if (queueEmpty()) {
    long sent = sendNoSignal(fd_, data.data(), data.size());
    if (sent < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        connectionLostSoon(Failure(ConnectionLost(errorText(errno))));
        return;
      }
      sent = 0;
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
    if (data.empty()) {
      // The queue never filled, so doWrite will not run: ask a pull producer directly.
      if (producer() && !streamingProducer_) schedulePull();
      return;
    }
  }
  extras().queue.append(data);
  updateInterest();
  checkHighWater();
}

void TcpConnection::writeSequence(std::span<const Bytes> data) {
  if (!connected_ || disconnecting_ || closing_ || writeCloseRequested_) return;
  // Queue everything, then one gathering flush: one system call for the whole sequence.
  bool wasEmpty = queueEmpty();
  WriteQueue& queue = extras().queue;
  for (Bytes piece : data) queue.append(piece);
  if (wasEmpty && !queue.empty()) {
    int error = 0;
    if (!queue.flush(fd_, error)) {
      connectionLostSoon(Failure(ConnectionLost(errorText(error))));
      return;
    }
  }
  updateInterest();
  checkHighWater();
}

void TcpConnection::doWrite() {
  if (closing_) return;
  int error = 0;
  if (extras_ && !extras_->queue.flush(fd_, error)) {
    // The socket's own error (a reset) over what send made of it afterwards (EPIPE).
    if (int carried = core_.takeCarriedError(fd_); carried != 0) error = carried;
    connectionLostNow(Failure(ConnectionLost(errorText(error))));
    return;
  }
  if (Extras* x = extras_.get(); x && x->producer && producerPaused_ && x->queue.size() <= x->lowWater) {
    producerPaused_ = false;
    auto keep = self();
    auto producer = x->producer;
    guarded("resumeProducing", [&] { producer->resumeProducing(); });
    if (closing_) return;
  }
  if (queueEmpty()) afterDrain();
  if (!closing_) updateInterest();
}

void TcpConnection::afterDrain() {
  if (auto producer = extras_ ? extras_->producer : nullptr; producer && !streamingProducer_) {
    auto keep = self();
    guarded("resumeProducing", [&] { producer->resumeProducing(); });
    if (closing_ || !queueEmpty()) return;
  }
  if (disconnecting_) {
    connectionLostNow(Failure(ConnectionDone()));
    return;
  }
  if (writeCloseRequested_ && !writeClosed_) {
    ::shutdown(fd_, SHUT_WR);
    writeClosed_ = true;
    if (HalfCloseableProtocol* half = halfCloseable()) {
      auto keep = self();
      guarded("writeConnectionLost", [&] { half->writeConnectionLost(); });
      if (closing_) return;
    }
    if (readClosed_) {
      connectionLostNow(Failure(ConnectionDone()));
      return;
    }
  }
}

void TcpConnection::checkHighWater() {
  Extras* x = extras_.get();
  if (x && x->producer && streamingProducer_ && !producerPaused_ && x->queue.size() > x->highWater) {
    producerPaused_ = true;
    auto* push = static_cast<IPushProducer*>(x->producer.get());
    guarded("pauseProducing", [&] { push->pauseProducing(); });
  }
}

void TcpConnection::setWriteWatermarks(std::size_t high, std::size_t low) {
  if (low > high) throw std::invalid_argument("setWriteWatermarks: low water mark above high water mark");
  extras().highWater = high;
  extras().lowWater = low;
}

void TcpConnection::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  if (this->producer()) throw std::logic_error("registerProducer: a producer is already registered");
  if (streaming && dynamic_cast<IPushProducer*>(producer.get()) == nullptr) {
    throw std::logic_error("registerProducer: a streaming producer must be an IPushProducer");
  }
  if (!connected_ || closing_) {
    producer->stopProducing();  // as Twisted: a producer for a dead transport is stopped
    return;
  }
  extras().producer = std::move(producer);
  streamingProducer_ = streaming;
  producerPaused_ = false;
  if (!streaming) {
    schedulePull();  // the queue is empty: ask for the first chunk
  } else {
    checkHighWater();
  }
}

void TcpConnection::schedulePull() {
  if (pullScheduled_) return;
  pullScheduled_ = true;
  core_.callSoon([keep = self()] {
    keep->pullScheduled_ = false;
    if (keep->producer() && !keep->streamingProducer_ && keep->queueEmpty() && !keep->closing_) {
      auto producer = keep->extras_->producer;
      keep->guarded("resumeProducing", [&] { producer->resumeProducing(); });
    }
  });
}

void TcpConnection::unregisterProducer() {
  if (extras_) extras_->producer.reset();
  producerPaused_ = false;
}

// ---------------------------------------------------------------- closing

void TcpConnection::loseConnection() {
  if (!connected_ || disconnecting_ || closing_) return;
  disconnecting_ = true;
  readPaused_ = true;
  if (queueEmpty()) {
    core_.callSoon([keep = self()] {
      if (!keep->closing_) keep->connectionLostNow(Failure(ConnectionDone()));
    });
  }
  updateInterest();
}

void TcpConnection::loseWriteConnection() {
  if (!connected_ || closing_ || writeCloseRequested_) return;
  writeCloseRequested_ = true;
  if (queueEmpty()) {
    core_.callSoon([keep = self()] {
      if (!keep->closing_ && keep->queueEmpty()) keep->afterDrain();
    });
  }
}

void TcpConnection::abortConnection() {
  if (!connected_ || closing_) return;
  connectionLostSoon(Failure(ConnectionAborted()));
}

void TcpConnection::connectionLostSoon(Failure reason) {
  if (closing_) return;
  closing_ = true;
  disconnecting_ = true;  // receivers stop delivering the rest of the current read
  if (extras_) extras_->queue.clear();
  core_.forget(*this);
  core_.callSoon([keep = self(), reason = std::move(reason)] { keep->connectionLostNow(reason); });
}

void TcpConnection::connectionLostNow(const Failure& reason) {
  if (fd_ < 0) return;
  auto keep = self();  // keep us alive until the end of this function
  closing_ = true;
  core_.forget(*this);
  ::close(fd_);
  fd_ = -1;
  connected_ = false;
  disconnecting_ = false;
  std::shared_ptr<IPullProducer> producer;
  std::shared_ptr<ConnectionObserver> observer;
  if (extras_) {
    extras_->queue.clear();  // the chunks go back to the pool while the reactor lives
    producer = std::move(extras_->producer);
    observer = std::move(extras_->observer);
  }
  if (producer) {
    guarded("stopProducing", [&] { producer->stopProducing(); });
  }
  if (protocol_) {
    ProtocolAccess::markDisconnected(*protocol_);
    guarded("connectionLost", [&] { protocol_->connectionLost(reason); });
    ProtocolAccess::connectionEnded(*protocol_);
  }
  if (observer) observer->connectionEnded(reason);
  // Break the transport <-> protocol cycle; the protocol may keep us alive on its own.
  protocol_.reset();
  halfCloseable_ = false;
  core_.release(*this);
}

void TcpConnection::closeForShutdown() {
  connectionLostNow(Failure(ConnectionLost("The reactor was destroyed while the connection was open.")));
}

void TcpConnection::updateInterest() {
  if (fd_ < 0 || closing_) return;
  std::uint8_t interest = 0;
  if (connected_ && !readPaused_ && !readClosed_) interest |= kReadable;
  if (!queueEmpty()) interest |= kWritable;
  core_.setInterest(*this, interest);
}

// ---------------------------------------------------------------- TCP options

void TcpConnection::requireTcp(const char* what) const {
  if (!isTcp_) throw std::logic_error(std::string(what) + ": not a TCP transport");
}

void TcpConnection::setTcpNoDelay(bool enabled) {
  requireTcp("setTcpNoDelay");
  int value = enabled ? 1 : 0;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value);
}

bool TcpConnection::getTcpNoDelay() const {
  requireTcp("getTcpNoDelay");
  int value = 0;
  socklen_t length = sizeof value;
  ::getsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &value, &length);
  return value != 0;
}

void TcpConnection::setTcpKeepAlive(bool enabled) {
  requireTcp("setTcpKeepAlive");
  int value = enabled ? 1 : 0;
  ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &value, sizeof value);
}

bool TcpConnection::getTcpKeepAlive() const {
  requireTcp("getTcpKeepAlive");
  int value = 0;
  socklen_t length = sizeof value;
  ::getsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &value, &length);
  return value != 0;
}

}  // namespace torsion::detail
