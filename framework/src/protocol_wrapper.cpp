#include <torsion/protocol_wrapper.hpp>

#include <stdexcept>
#include <string>
#include <utility>

#include "protocol_access.hpp"
#include "reactor_access.hpp"
#include "reactor_core.hpp"

namespace torsion {

namespace {

// Lets go of a protocol that is off its connection (a wrapped protocol whose connection
// was lost, a protocol that switched its connection to another). On a reactor it goes
// to the release step with the connections, so that its destructor never runs inside
// the dispatch that took it off; a transport without a reactor (a test's
// StringTransport) dispatches nothing, so it is dropped at once.
struct ReleaseWrapped {
  Transport* real;
  std::shared_ptr<Protocol> wrapped;
  ~ReleaseWrapped() {
    Reactor* reactor = real != nullptr ? real->reactor() : nullptr;
    if (reactor != nullptr && wrapped) detail::ReactorAccess::core(*reactor).disposeAfterPass(std::move(wrapped));
  }
};

}  // namespace

ProtocolWrapper::ProtocolWrapper(std::shared_ptr<WrappingFactory> owner, std::shared_ptr<Protocol> wrapped)
    : factory_(std::move(owner)), wrapped_(std::move(wrapped)) {}

ProtocolWrapper::~ProtocolWrapper() = default;

void ProtocolWrapper::wrapConnected(Protocol& connected) {
  std::shared_ptr<Transport> real = connected.transportPtr();
  if (!real || !connected.connected()) throw std::logic_error("wrapConnected: the protocol is not connected");
  if (wrapped_) throw std::logic_error("wrapConnected: this wrapper wraps a protocol already");
  wrapped_ = real->replaceProtocol(connected, shared_from_this());
  start_ = WrapperStart::liveConnection;
  detail::ProtocolAccess::setTransport(connected, shared_from_this());
  makeConnection(std::move(real));
}

void ProtocolWrapper::connectionMade() {
  if (factory_) factory_->registerProtocol(*this);
  if (start_ == WrapperStart::newConnection && wrapped_) wrapped_->makeConnection(shared_from_this());
}

void ProtocolWrapper::dataReceived(Bytes data) {
  if (wrapped_) wrapped_->dataReceived(data);
}

// The wrapped protocol holds this wrapper as its transport: letting it go here, once it
// was told, is what keeps the two from keeping each other alive.
void ProtocolWrapper::connectionLost(const Failure& reason) {
  if (factory_) factory_->unregisterProtocol(*this);
  ReleaseWrapped release{lower(), std::move(wrapped_)};
  if (release.wrapped && release.wrapped->connected()) {
    detail::ProtocolAccess::deliverConnectionLost(*release.wrapped, reason);
  }
}

void ProtocolWrapper::write(Bytes data) {
  if (lower() != nullptr) lower()->write(data);
}
void ProtocolWrapper::writeSequence(std::span<const Bytes> data) {
  if (lower() != nullptr) lower()->writeSequence(data);
}
void ProtocolWrapper::loseConnection() {
  if (lower() != nullptr) lower()->loseConnection();
}
void ProtocolWrapper::abortConnection() {
  if (lower() != nullptr) lower()->abortConnection();
}
void ProtocolWrapper::loseWriteConnection() {
  if (lower() != nullptr) lower()->loseWriteConnection();
}
Address ProtocolWrapper::getPeer() const { return lower() != nullptr ? lower()->getPeer() : Address{}; }
Address ProtocolWrapper::getHost() const { return lower() != nullptr ? lower()->getHost() : Address{}; }
bool ProtocolWrapper::connected() const { return Protocol::connected() && lower() != nullptr && lower()->connected(); }
bool ProtocolWrapper::disconnecting() const { return lower() != nullptr && lower()->disconnecting(); }
std::size_t ProtocolWrapper::writeBufferSize() const { return lower() != nullptr ? lower()->writeBufferSize() : 0; }

void ProtocolWrapper::setWriteWatermarks(std::size_t high, std::size_t low) {
  if (low > high) throw std::invalid_argument("setWriteWatermarks: low water mark above high water mark");
  if (lower() != nullptr) lower()->setWriteWatermarks(high, low);
}
void ProtocolWrapper::setMaxQueuedOutput(std::size_t bytes) { need("setMaxQueuedOutput").setMaxQueuedOutput(bytes); }
std::size_t ProtocolWrapper::maxQueuedOutput() const { return need("maxQueuedOutput").maxQueuedOutput(); }

void ProtocolWrapper::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  if (lower() != nullptr && Protocol::connected()) {
    lower()->registerProducer(std::move(producer), streaming);
  } else if (producer) {
    producer->stopProducing();  // as every transport: a producer for a dead one is stopped
  }
}
void ProtocolWrapper::unregisterProducer() {
  if (lower() != nullptr) lower()->unregisterProducer();
}
void ProtocolWrapper::pauseProducing() {
  if (lower() != nullptr) lower()->pauseProducing();
}
void ProtocolWrapper::resumeProducing() {
  if (lower() != nullptr) lower()->resumeProducing();
}
void ProtocolWrapper::stopProducing() {
  if (lower() != nullptr) lower()->stopProducing();
}

void ProtocolWrapper::setTcpNoDelay(bool enabled) { need("setTcpNoDelay").setTcpNoDelay(enabled); }
bool ProtocolWrapper::getTcpNoDelay() const { return need("getTcpNoDelay").getTcpNoDelay(); }
void ProtocolWrapper::setTcpKeepAlive(bool enabled) { need("setTcpKeepAlive").setTcpKeepAlive(enabled); }
bool ProtocolWrapper::getTcpKeepAlive() const { return need("getTcpKeepAlive").getTcpKeepAlive(); }
Reactor* ProtocolWrapper::reactor() const noexcept { return lower() != nullptr ? lower()->reactor() : nullptr; }
IReactorTime* ProtocolWrapper::clock() const noexcept { return lower() != nullptr ? lower()->clock() : nullptr; }

std::shared_ptr<Protocol> ProtocolWrapper::replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) {
  if (!next) throw std::invalid_argument("replaceProtocol: the new protocol is null");
  if (wrapped_.get() != &current) throw std::logic_error("replaceProtocol: not this transport's protocol");
  if (!connected()) throw std::logic_error("replaceProtocol: the connection is lost");
  return std::exchange(wrapped_, std::move(next));
}

// The settings of a connection that is gone are refused, as a closed TCP transport's are,
// even though the real transport object lives on while the wrapped protocol holds us.
Transport& ProtocolWrapper::need(const char* what) const {
  if (lower() == nullptr || !Protocol::connected())
    throw std::logic_error(std::string(what) + ": the wrapped connection is gone");
  return *lower();
}

void switchProtocol(Protocol& current, std::shared_ptr<Protocol> next, Bytes firstBytes) {
  if (!next) throw std::invalid_argument("switchProtocol: the new protocol is null");
  std::shared_ptr<Transport> real = current.transportPtr();
  if (!real || !current.connected()) throw std::logic_error("switchProtocol: the protocol is not connected");
  std::shared_ptr<Protocol> incoming = next;  // alive through its hooks, whatever the transport does
  ReleaseWrapped release{real.get(), real->replaceProtocol(current, std::move(next))};
  detail::ProtocolAccess::markDisconnected(current);
  detail::ProtocolAccess::connectionEnded(current);
  incoming->makeConnection(real);
  if (!firstBytes.empty() && incoming->connected()) incoming->dataReceived(firstBytes);
}

WrappingFactory::WrappingFactory(std::shared_ptr<Factory> wrapped) : wrapped_(std::move(wrapped)) {
  if (!wrapped_) throw std::invalid_argument("WrappingFactory needs a factory to wrap");
}

std::shared_ptr<Protocol> WrappingFactory::buildProtocol(const Address& address) {
  std::shared_ptr<Protocol> built = wrapped_->buildProtocol(address);
  if (!built) return nullptr;
  std::shared_ptr<Protocol> wrapper = wrapProtocol(std::move(built));
  wrapper->factory = shared_from_this();
  return wrapper;
}

std::shared_ptr<ProtocolWrapper> WrappingFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<ProtocolWrapper>(self(), std::move(wrapped));
}

void WrappingFactory::startFactory() { wrapped_->doStart(); }
void WrappingFactory::stopFactory() { wrapped_->doStop(); }

void WrappingFactory::startedConnecting(Connector& connector) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->startedConnecting(connector);
}
void WrappingFactory::clientConnectionFailed(Connector& connector, const Failure& reason) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->clientConnectionFailed(connector, reason);
}
void WrappingFactory::clientConnectionLost(Connector& connector, const Failure& reason) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->clientConnectionLost(connector, reason);
}

void WrappingFactory::registerProtocol(ProtocolWrapper& wrapper) { live_.insert(&wrapper); }
void WrappingFactory::unregisterProtocol(ProtocolWrapper& wrapper) { live_.erase(&wrapper); }

}  // namespace torsion
