#include <torsion/errors.hpp>
#include <torsion/protocol.hpp>
#include <torsion/testing/string_transport.hpp>

#include "protocol_access.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace torsion::testing {

StringTransport::StringTransport(Address host, Address peer) : host_(std::move(host)), peer_(std::move(peer)) {}

void StringTransport::makeConnection(Protocol& protocol) {
  protocol_ = &protocol;
  protocol.makeConnection(shared_from_this());
}

std::shared_ptr<Protocol> StringTransport::replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) {
  if (!next) throw std::invalid_argument("StringTransport::replaceProtocol: the new protocol is null");
  if (protocol_ != &current) throw std::logic_error("StringTransport::replaceProtocol: not this transport's protocol");
  if (!connected_) throw std::logic_error("StringTransport::replaceProtocol: the connection is lost");
  // Non-owning unless `current` was itself put in here: the test owns the first protocol.
  std::shared_ptr<Protocol> old =
      inserted_.get() == &current ? std::move(inserted_) : std::shared_ptr<Protocol>(std::shared_ptr<void>(), &current);
  protocol_ = next.get();
  inserted_ = std::move(next);
  return old;
}

Protocol& StringTransport::requireProtocol(const char* what) const {
  if (protocol_ == nullptr) {
    throw std::logic_error(std::string("StringTransport::") + what + ": connect a protocol with makeConnection first");
  }
  return *protocol_;
}

void StringTransport::receive(Bytes data) {
  if (!connected_ && protocol_ == nullptr && released_) return;  // see reportConnectionLost
  Protocol& protocol = requireProtocol("receive");
  if (!reading()) return;
  if (producerState_ != ProducerState::producing) {
    unread_.append(data);
    return;
  }
  protocol.dataReceived(data);
}

void StringTransport::receiveEof() {
  if (!connected_ && protocol_ == nullptr && released_) return;  // see reportConnectionLost
  Protocol& protocol = requireProtocol("receiveEof");
  if (!connected_) return;
  if (auto* halfCloseable = dynamic_cast<HalfCloseableProtocol*>(&protocol)) {
    halfCloseable->readConnectionLost();
    return;
  }
  reportConnectionLost(Failure(ConnectionDone()));
}

void StringTransport::reportConnectionLost(const Failure& reason) {
  if (!connected_) return;
  connected_ = false;
  disconnecting_ = false;
  unread_.clear();
  queued_.clear();
  // The order of a real transport: the producer is stopped, then the protocol told.
  if (auto producer = std::exchange(producer_, nullptr)) {
    streaming_ = false;
    producerPausedByUs_ = false;
    producer->stopProducing();
  }
  if (protocol_ != nullptr) {
    detail::ProtocolAccess::deliverConnectionLost(*protocol_, reason);
  }
  // A protocol put in by replaceProtocol holds this transport: let it go, as a real
  // transport lets go of its protocol once the loss was reported.
  if (inserted_) {
    protocol_ = nullptr;
    released_ = true;
    inserted_.reset();
  }
}

void StringTransport::reportConnectionLost() {
  reportConnectionLost(aborted_ ? Failure(ConnectionAborted()) : Failure(ConnectionDone()));
}

void StringTransport::setWritesBlocked(bool blocked) {
  writesBlocked_ = blocked;
  if (!blocked) flush();
}

void StringTransport::flush() {
  written_.append(queued_);
  queued_.clear();
  auto producer = producer_;  // the producer may unregister itself from inside
  if (!producer) return;
  if (!streaming_) {
    producer->resumeProducing();
  } else if (producerPausedByUs_ && queued_.size() <= low_) {
    producerPausedByUs_ = false;
    producer->resumeProducing();
  }
}

void StringTransport::record(Bytes data) {
  if (!writesBlocked_) {
    written_.append(data);
    return;
  }
  queued_.append(data);
  afterQueueGrew();
}

void StringTransport::afterQueueGrew() {
  if (producer_ && streaming_ && !producerPausedByUs_ && queued_.size() > high_) {
    producerPausedByUs_ = true;
    auto producer = producer_;
    static_cast<IPushProducer&>(*producer).pauseProducing();
  }
}

void StringTransport::write(Bytes data) {
  if (!writable()) return;
  ++writeCalls_;
  record(data);
}

void StringTransport::writeSequence(std::span<const Bytes> data) {
  if (!writable()) return;
  ++writeCalls_;
  std::string& target = writesBlocked_ ? queued_ : written_;
  for (Bytes piece : data) target.append(piece);
  if (writesBlocked_) afterQueueGrew();
}

void StringTransport::loseConnection() {
  if (connected_) disconnecting_ = true;
}

void StringTransport::abortConnection() {
  if (!connected_) return;
  aborted_ = true;
  disconnecting_ = true;
  queued_.clear();
}

void StringTransport::loseWriteConnection() {
  if (connected_) writeClosed_ = true;
}

void StringTransport::setWriteWatermarks(std::size_t high, std::size_t low) {
  if (low > high) throw std::invalid_argument("setWriteWatermarks: low water mark above high water mark");
  high_ = high;
  low_ = low;
}

void StringTransport::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  if (!producer) throw std::invalid_argument("registerProducer: the producer is null");
  if (producer_) throw std::logic_error("registerProducer: a producer is already registered");
  if (streaming && dynamic_cast<IPushProducer*>(producer.get()) == nullptr) {
    throw std::logic_error("registerProducer: a streaming producer must be an IPushProducer");
  }
  if (!connected_) {
    producer->stopProducing();  // as a real transport: a producer for a dead one is stopped
    return;
  }
  producer_ = std::move(producer);
  streaming_ = streaming;
  producerPausedByUs_ = false;
  if (writesBlocked_) afterQueueGrew();
}

void StringTransport::unregisterProducer() {
  producer_.reset();
  streaming_ = false;
  producerPausedByUs_ = false;
}

void StringTransport::pauseProducing() {
  if (producerState_ != ProducerState::stopped) producerState_ = ProducerState::paused;
}

void StringTransport::resumeProducing() {
  if (producerState_ == ProducerState::stopped) return;
  producerState_ = ProducerState::producing;
  if (unread_.empty() || protocol_ == nullptr || !reading()) return;
  std::string data;
  data.swap(unread_);
  protocol_->dataReceived(data);
}

void StringTransport::stopProducing() {
  producerState_ = ProducerState::stopped;
  unread_.clear();
}

}  // namespace torsion::testing
