#include "tcp_connection.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <fmt/format.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "connection_failures.hpp"
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
    : core_(core),
      fd_(fd),
      isTcp_(isTcp),
      receive_(core.completesReceives() ? ReceiveState::idle : ReceiveState::readiness),
      send_(core.completesSends() ? SendState::idle : SendState::readiness),
      peer_(PeerAddress::from(peer)) {
  if (peer.family == Address::Family::unixSocket) extras().unixPeer = peer;
}

TcpConnection::TcpConnection(ReactorCore& core, int fd, const PeerAddress& peer)
    : core_(core),
      fd_(fd),
      isTcp_(true),
      receive_(core.completesReceives() ? ReceiveState::idle : ReceiveState::readiness),
      send_(core.completesSends() ? SendState::idle : SendState::readiness),
      peer_(peer) {}

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
    forgetDescriptor();
    ::close(fd_);
  }
}

void TcpConnection::forgetDescriptor() {
  core_.forget(*this);
  if (receive_ != ReceiveState::readiness) core_.dropReceive(fd_);
  if (send_ == SendState::inFlight) {
    core_.dropSend(fd_);  // its buffer is the backend's: nothing of ours is left in the kernel
    send_ = SendState::idle;
    inFlight_ = 0;
  }
}

bool TcpConnection::start(const std::shared_ptr<TcpConnection>& connection, std::shared_ptr<Protocol> protocol,
                          std::shared_ptr<ConnectionObserver> observer) {
  try {
    if (connection->receive_ == ReceiveState::readiness) {
      connection->core_.setInterest(*connection, kReadable);
    } else {
      connection->core_.armReceive(connection->fd_, *connection);
      connection->receive_ = ReceiveState::armed;
    }
  } catch (const std::exception& error) {
    log::error("dropping connection from {}: {}", connection->getPeer().toString(), error.what());
    connection->core_.disposeAfterPass(std::move(protocol));  // never destroyed inside a dispatch
    return false;                                             // the destructor closes the descriptor
  }
  connection->core_.adopt(connection);
  connection->moveTo(ConnectionState::connected);
  connection->protocol_ = std::move(protocol);
  if (observer) connection->extras().observer = std::move(observer);
  connection->guarded("connectionMade", [&] { connection->protocol_->makeConnection(connection); });
  return true;
}

std::shared_ptr<Protocol> TcpConnection::replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) {
  if (!next) throw std::invalid_argument("replaceProtocol: the new protocol is null");
  if (protocol_.get() != &current) throw std::logic_error("replaceProtocol: not this transport's protocol");
  if (closingOrClosed()) throw std::logic_error("replaceProtocol: the connection is closing or closed");
  // The caller (a wrapper) keeps the old protocol; if we are inside its dataReceived, it
  // stays alive through the returned reference.
  return std::exchange(protocol_, std::move(next));
}

void TcpConnection::moveTo(ConnectionState next) noexcept {
  assert(next > state_ && "a connection's state only moves forward");
  state_ = next;
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
  if (closingOrClosed()) return;
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
      connectionLostNow(connectionLostFailure(error));
      return;
    }
    handleEndOfInput();
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return;
  connectionLostNow(connectionLostFailure(errno));
}

// ---------------------------------------------------------------- reading: completions

void TcpConnection::receiveCompleted(const ReceiveCompletion& completion) {
  if (!completion.continues) receive_ = ReceiveState::idle;  // the kernel ended this receive
  // Disconnecting or closing: input is no longer read, as with readiness.
  if (state_ != ConnectionState::connected) return;
  const int result = completion.result;
  // The receive ended for want of buffers, or we cancelled it: nothing to deliver;
  // steerReceive arms again if the connection still reads.
  const bool bytesOrEnd = result >= 0 || (result != -ENOBUFS && result != -ECANCELED);
  if (bytesOrEnd) {
    if (read_ == ReadState::reading && !stashPending()) {
      if (result > 0) {
        auto keep = self();  // the protocol may drop the last reference to us from inside
        guarded("dataReceived", [&] { protocol_->dataReceived(completion.data); });
      } else {
        endInput(result);
      }
    } else {
      // Paused (or resumed while the pause's cancel was under way, with input stashed
      // before): the bytes are the kernel's no longer, so keep them, in order.
      StashedInput& stash = extras().stash;
      if (result > 0) {
        stash.bytes.append(completion.data);
      } else {
        stash.end = result == 0 ? StashedEnd::endOfStream : StashedEnd::error;
        stash.error = -result;
      }
    }
  }
  updateInterest();
}

void TcpConnection::endInput(int result) {
  if (result == 0) {
    handleEndOfInput();
    return;
  }
  connectionLostNow(connectionLostFailure(-result));
}

void TcpConnection::steerReceive(bool wantsInput) {
  if (wantsInput && receive_ == ReceiveState::idle) {
    if (stashPending()) {
      // Never from inside the call that resumed us: later in this pass.
      receive_ = ReceiveState::replaying;
      core_.callSoon([keep = self()] { keep->replayStash(); });
      return;
    }
    core_.armReceive(fd_, *this);
    receive_ = ReceiveState::armed;
  } else if (!wantsInput && receive_ == ReceiveState::armed) {
    core_.cancelReceive(fd_);
    receive_ = ReceiveState::cancelling;
  }
}

void TcpConnection::replayStash() {
  if (receive_ != ReceiveState::replaying) return;
  receive_ = ReceiveState::idle;
  if (state_ != ConnectionState::connected) return;
  if (read_ == ReadState::reading) {
    StashedInput& stash = extras_->stash;
    std::string bytes = std::move(stash.bytes);
    stash.bytes.clear();
    if (!bytes.empty()) {
      auto keep = self();
      guarded("dataReceived", [&] { protocol_->dataReceived(Bytes(bytes)); });
      if (state_ != ConnectionState::connected) return;
    }
    // Paused again inside dataReceived: the end (if any) waits for the next resume.
    if (read_ == ReadState::reading && stash.end != StashedEnd::none) {
      const int result = stash.end == StashedEnd::endOfStream ? 0 : -stash.error;
      stash.end = StashedEnd::none;
      endInput(result);
      return;
    }
  }
  updateInterest();
}

void TcpConnection::handleEndOfInput() {
  HalfCloseableProtocol* half = halfCloseable();
  if (half == nullptr) {
    connectionLostNow(connectionDoneFailure());
    return;
  }
  read_ = ReadState::closed;
  updateInterest();
  auto keep = self();
  guarded("readConnectionLost", [&] { half->readConnectionLost(); });
  // A half-closeable protocol hears of each direction closing, as in Twisted; once both
  // are closed the connection is done.
  if (write_ == WriteState::shutDown && !closingOrClosed()) connectionLostNow(connectionDoneFailure());
}

void TcpConnection::pauseProducing() {
  core_.assertInLoopThread("ITransport::pauseProducing");
  if (read_ == ReadState::reading) read_ = ReadState::paused;
  updateInterest();
}

void TcpConnection::resumeProducing() {
  core_.assertInLoopThread("ITransport::resumeProducing");
  // As Twisted: a connection that is closing never reads again (updateInterest).
  if (read_ == ReadState::paused) read_ = ReadState::reading;
  updateInterest();
}

// ---------------------------------------------------------------- writing

void TcpConnection::write(Bytes data) {
  core_.assertInLoopThread("ITransport::write");
  if (!writable() || data.empty()) return;
  if (queueEmpty()) {
    if (submitSend(data)) {
      afterWrite();
      return;
    }
    long sent = sendNoSignal(fd_, data.data(), data.size());
    if (sent < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        connectionLostSoon(connectionLostFailure(socketErrorOver(errno)));
        return;
      }
      sent = 0;
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  if (!data.empty()) extras().queue.append(data);
  afterWrite();
}

void TcpConnection::writeSequence(std::span<const Bytes> data) {
  core_.assertInLoopThread("ITransport::writeSequence");
  if (!writable()) return;
  // Queue everything, then one gathering flush: one system call for the whole sequence.
  bool wasEmpty = queueEmpty();
  WriteQueue& queue = extras().queue;
  for (Bytes piece : data) queue.append(piece);
  if (wasEmpty && !queue.empty()) {
    int error = 0;
    if (!flushQueue(error)) {
      connectionLostSoon(connectionLostFailure(socketErrorOver(error)));
      return;
    }
  }
  afterWrite();
}

bool TcpConnection::submitSend(Bytes data) {
  if (send_ != SendState::idle) return false;
  const std::span<char> buffer = core_.sendBuffer();
  if (buffer.size() < data.size()) return false;  // bulk output, or every buffer in use
  std::memcpy(buffer.data(), data.data(), data.size());
  startSend(data.size());
  return true;
}

void TcpConnection::startSend(std::size_t length) {
  core_.submitSend(fd_, length, *this);
  send_ = SendState::inFlight;
  inFlight_ = static_cast<std::uint32_t>(length);
}

bool TcpConnection::flushQueue(int& error) {
  if (send_ == SendState::inFlight) return true;  // the queue follows when that send completes
  WriteQueue& queue = extras_->queue;
  if (send_ == SendState::idle) {
    const std::span<char> buffer = core_.sendBuffer();
    if (!buffer.empty() && queue.size() <= buffer.size()) {
      startSend(queue.takeFront(buffer));
      return true;
    }
  }
  return queue.flush(fd_, error);
}

void TcpConnection::sendCompleted(int result) {
  send_ = SendState::idle;
  inFlight_ = 0;
  if (closingOrClosed()) return;
  if (result < 0) {
    connectionLostNow(connectionLostFailure(socketErrorOver(-result)));
    return;
  }
  doWrite();  // what queued behind the send follows it, as when the socket has room
}

int TcpConnection::socketErrorOver(int sendError) {
  // The socket's own error (a reset) over what send made of it afterwards (EPIPE): the
  // backend's wait may have consumed it (libkqueue), or a receive of the completion
  // path that completed while we were paused (the error is then in the stash).
  if (int carried = core_.takeCarriedError(fd_); carried != 0) return carried;
  if (extras_ && extras_->stash.end == StashedEnd::error) return extras_->stash.error;
  return sendError;
}

void TcpConnection::afterWrite() {
  if (queueEmpty()) {
    // The kernel took everything at once, so doWrite will not run to ask a pull
    // producer for more: ask it here, later in this pass (never from inside a write).
    schedulePull();
    return;
  }
  if (overQueueCap()) return;
  updateInterest();
  checkHighWater();
}

bool TcpConnection::overQueueCap() {
  const std::size_t cap = maxQueuedOutput();
  const std::size_t queued = writeBufferSize();
  if (cap == 0 || queued <= cap) return false;
  std::string why = fmt::format(
      "{} bytes of output queued, above the cap of {} (setMaxQueuedOutput): the peer does not read", queued, cap);
  log::warn("dropping connection to {}: {}", getPeer().toString(), why);
  connectionLostSoon(Failure(ConnectionLost(why)));
  return true;
}

void TcpConnection::doWrite() {
  if (closingOrClosed()) return;
  int error = 0;
  if (extras_ && !extras_->queue.empty() && !flushQueue(error)) {
    connectionLostNow(connectionLostFailure(socketErrorOver(error)));
    return;
  }
  if (producer_ == ProducerState::streamingPaused && writeBufferSize() <= extras_->lowWater) {
    producer_ = ProducerState::streaming;
    auto keep = self();
    auto producer = extras_->producer;
    guarded("resumeProducing", [&] { producer->resumeProducing(); });
    if (closingOrClosed()) return;
  }
  if (queueEmpty()) afterDrain();
  if (!closingOrClosed()) updateInterest();
}

void TcpConnection::afterDrain() {
  if (producer_ == ProducerState::pull) {
    auto keep = self();
    auto producer = extras_->producer;
    guarded("resumeProducing", [&] { producer->resumeProducing(); });
    if (closingOrClosed() || !queueEmpty()) return;
  }
  if (state_ == ConnectionState::disconnecting) {
    connectionLostNow(connectionDoneFailure());
    return;
  }
  if (write_ == WriteState::shutdownRequested) {
    ::shutdown(fd_, SHUT_WR);
    write_ = WriteState::shutDown;
    if (HalfCloseableProtocol* half = halfCloseable()) {
      auto keep = self();
      guarded("writeConnectionLost", [&] { half->writeConnectionLost(); });
      if (closingOrClosed()) return;
    }
    if (read_ == ReadState::closed) {
      connectionLostNow(connectionDoneFailure());
      return;
    }
  }
}

void TcpConnection::checkHighWater() {
  if (producer_ == ProducerState::streaming && writeBufferSize() > extras_->highWater) {
    producer_ = ProducerState::streamingPaused;
    auto* push = static_cast<IPushProducer*>(extras_->producer.get());
    guarded("pauseProducing", [&] { push->pauseProducing(); });
  }
}

void TcpConnection::setWriteWatermarks(std::size_t high, std::size_t low) {
  if (low > high) throw std::invalid_argument("setWriteWatermarks: low water mark above high water mark");
  extras().highWater = high;
  extras().lowWater = low;
}

void TcpConnection::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  core_.assertInLoopThread("ITransport::registerProducer");
  if (this->producer()) throw std::logic_error("registerProducer: a producer is already registered");
  if (streaming && dynamic_cast<IPushProducer*>(producer.get()) == nullptr) {
    throw std::logic_error("registerProducer: a streaming producer must be an IPushProducer");
  }
  if (!isOpen() || closingOrClosed()) {
    producer->stopProducing();  // as Twisted: a producer for a dead transport is stopped
    return;
  }
  extras().producer = std::move(producer);
  if (!streaming) {
    producer_ = ProducerState::pull;
    if (queueEmpty()) schedulePull();  // ask for the first chunk; else doWrite asks on drain
  } else {
    producer_ = ProducerState::streaming;
    checkHighWater();
  }
}

void TcpConnection::schedulePull() {
  if (producer_ != ProducerState::pull) return;
  producer_ = ProducerState::pullScheduled;
  core_.callSoon([keep = self()] {
    if (keep->producer_ != ProducerState::pullScheduled) return;  // unregistered meanwhile
    keep->producer_ = ProducerState::pull;
    if (keep->queueEmpty() && !keep->closingOrClosed()) {
      auto producer = keep->extras_->producer;
      keep->guarded("resumeProducing", [&] { producer->resumeProducing(); });
    }
  });
}

void TcpConnection::unregisterProducer() {
  core_.assertInLoopThread("ITransport::unregisterProducer");
  if (extras_) extras_->producer.reset();
  producer_ = ProducerState::none;
}

// ---------------------------------------------------------------- closing

void TcpConnection::loseConnection() {
  core_.assertInLoopThread("ITransport::loseConnection");
  if (state_ != ConnectionState::connected) return;
  moveTo(ConnectionState::disconnecting);  // stops reading (updateInterest)
  if (queueEmpty()) {
    core_.callSoon([keep = self()] {
      if (!keep->closingOrClosed()) keep->connectionLostNow(connectionDoneFailure());
    });
  }
  updateInterest();
}

void TcpConnection::loseWriteConnection() {
  core_.assertInLoopThread("ITransport::loseWriteConnection");
  if (!isOpen() || closingOrClosed() || write_ != WriteState::open) return;
  write_ = WriteState::shutdownRequested;
  if (queueEmpty()) {
    core_.callSoon([keep = self()] {
      if (!keep->closingOrClosed() && keep->queueEmpty()) keep->afterDrain();
    });
  }
}

void TcpConnection::abortConnection() {
  core_.assertInLoopThread("ITransport::abortConnection");
  if (!isOpen() || closingOrClosed()) return;
  connectionLostSoon(Failure(ConnectionAborted()));
}

void TcpConnection::connectionLostSoon(Failure reason) {
  if (closingOrClosed()) return;
  moveTo(ConnectionState::closing);  // receivers stop delivering the rest of the current read
  if (extras_) extras_->queue.clear();
  forgetDescriptor();
  core_.callSoon([keep = self(), reason = std::move(reason)] { keep->connectionLostNow(reason); });
}

void TcpConnection::connectionLostNow(const Failure& reason) {
  if (fd_ < 0) return;
  auto keep = self();  // keep us alive until the end of this function
  forgetDescriptor();
  ::close(fd_);
  fd_ = -1;
  moveTo(ConnectionState::disconnected);
  producer_ = ProducerState::none;
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
    guarded("connectionLost", [&] { ProtocolAccess::deliverConnectionLost(*protocol_, reason); });
  }
  if (observer) observer->connectionEnded(reason);
  // Break the transport <-> protocol cycle. We may be inside doRead or doWrite (or a
  // callback of the user's), so the protocol is handed to the reactor's release step:
  // its destructor never runs in the middle of a dispatch.
  core_.disposeAfterPass(std::move(protocol_));
  core_.release(*this);
}

void TcpConnection::closeForShutdown() {
  connectionLostNow(Failure(ConnectionLost("The reactor was destroyed while the connection was open.")));
}

void TcpConnection::updateInterest() {
  if (fd_ < 0 || closingOrClosed()) return;
  const bool wantsInput = state_ == ConnectionState::connected && read_ == ReadState::reading;
  std::uint8_t interest = 0;
  if (receive_ == ReceiveState::readiness) {
    if (wantsInput) interest |= kReadable;
  } else {
    steerReceive(wantsInput);
  }
  if (waitsForRoom()) interest |= kWritable;
  core_.setInterest(*this, interest);
}

// ---------------------------------------------------------------- TCP options

void TcpConnection::requireTcp(const char* what) const {
  if (!isTcp_) throw std::logic_error(std::string(what) + ": not a TCP transport");
}

void TcpConnection::setTcpNoDelay(bool enabled) {
  requireTcp("setTcpNoDelay");
  setFlagOption(fd_, IPPROTO_TCP, TCP_NODELAY, enabled);
}

bool TcpConnection::getTcpNoDelay() const {
  requireTcp("getTcpNoDelay");
  return flagOption(fd_, IPPROTO_TCP, TCP_NODELAY);
}

void TcpConnection::setTcpKeepAlive(bool enabled) {
  requireTcp("setTcpKeepAlive");
  setFlagOption(fd_, SOL_SOCKET, SO_KEEPALIVE, enabled);
}

bool TcpConnection::getTcpKeepAlive() const {
  requireTcp("getTcpKeepAlive");
  return flagOption(fd_, SOL_SOCKET, SO_KEEPALIVE);
}

}  // namespace torsion::detail
