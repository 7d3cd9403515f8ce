#include <torsion/protocols/protocol_wrapper.hpp>

#include <stdexcept>
#include <utility>

namespace torsion::protocols {

// The transport the wrapped protocol sees. The wrapped protocol holds it, and it points
// back at the wrapper without owning it (the wrapper owns the wrapped protocol), so the
// two never form a cycle. The wrapper clears the pointer when it is destroyed; a
// wrapped protocol kept longer then finds a dead transport.
class ProtocolWrapper::Facade final : public Transport {
 public:
  explicit Facade(ProtocolWrapper& owner) : owner_(&owner) {}
  void detach() noexcept { owner_ = nullptr; }

  void write(Bytes data) override {
    if (owner_) owner_->write(data);
  }
  void writeSequence(std::span<const Bytes> data) override {
    if (owner_) owner_->writeSequence(data);
  }
  void loseConnection() override {
    if (owner_) owner_->loseConnection();
  }
  void abortConnection() override {
    if (owner_) owner_->abortConnection();
  }
  void loseWriteConnection() override {
    if (owner_) owner_->loseWriteConnection();
  }
  Address getPeer() const override { return real() ? real()->getPeer() : Address{}; }
  Address getHost() const override { return real() ? real()->getHost() : Address{}; }
  bool connected() const override { return real() && real()->connected(); }
  bool disconnecting() const override { return real() && real()->disconnecting(); }
  std::size_t writeBufferSize() const override { return real() ? real()->writeBufferSize() : 0; }
  void setWriteWatermarks(std::size_t high, std::size_t low) override {
    if (low > high) throw std::invalid_argument("setWriteWatermarks: low water mark above high water mark");
    if (real()) real()->setWriteWatermarks(high, low);
  }
  void setMaxQueuedOutput(std::size_t bytes) override { need("setMaxQueuedOutput").setMaxQueuedOutput(bytes); }
  std::size_t maxQueuedOutput() const override { return need("maxQueuedOutput").maxQueuedOutput(); }
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override {
    if (owner_) {
      owner_->registerProducer(std::move(producer), streaming);
    } else {
      producer->stopProducing();  // as every transport: a producer for a dead one is stopped
    }
  }
  void unregisterProducer() override {
    if (owner_) owner_->unregisterProducer();
  }
  void pauseProducing() override {
    if (owner_) owner_->pauseProducing();
  }
  void resumeProducing() override {
    if (owner_) owner_->resumeProducing();
  }
  void stopProducing() override {
    if (owner_) owner_->stopProducing();
  }
  void setTcpNoDelay(bool enabled) override { need("setTcpNoDelay").setTcpNoDelay(enabled); }
  bool getTcpNoDelay() const override { return need("getTcpNoDelay").getTcpNoDelay(); }
  void setTcpKeepAlive(bool enabled) override { need("setTcpKeepAlive").setTcpKeepAlive(enabled); }
  bool getTcpKeepAlive() const override { return need("getTcpKeepAlive").getTcpKeepAlive(); }
  Reactor* reactor() const noexcept override { return real() ? real()->reactor() : nullptr; }
  IReactorTime* clock() const noexcept override { return real() ? real()->clock() : nullptr; }

 private:
  Transport* real() const noexcept { return owner_ ? owner_->transportPtr().get() : nullptr; }
  Transport& need(const char* what) const {
    Transport* transport = real();
    if (transport == nullptr) throw std::logic_error(std::string(what) + ": the wrapped connection is gone");
    return *transport;
  }

  ProtocolWrapper* owner_;
};

ProtocolWrapper::ProtocolWrapper(std::shared_ptr<WrappingFactory> owner, std::shared_ptr<Protocol> wrapped)
    : factory_(std::move(owner)), wrapped_(std::move(wrapped)), facade_(std::make_shared<Facade>(*this)) {
  if (!factory_ || !wrapped_) throw std::invalid_argument("ProtocolWrapper needs a factory and a protocol");
}

ProtocolWrapper::~ProtocolWrapper() { facade_->detach(); }

std::shared_ptr<Transport> ProtocolWrapper::wrapperTransport() const { return facade_; }

void ProtocolWrapper::connectionMade() {
  factory_->registerProtocol(*this);
  wrapped_->makeConnection(facade_);
}

void ProtocolWrapper::dataReceived(Bytes data) { wrapped_->dataReceived(data); }

void ProtocolWrapper::connectionLost(const Failure& reason) {
  factory_->unregisterProtocol(*this);
  deliverConnectionLost(*wrapped_, reason);
}

void ProtocolWrapper::write(Bytes data) { transport().write(data); }
void ProtocolWrapper::writeSequence(std::span<const Bytes> data) { transport().writeSequence(data); }
void ProtocolWrapper::loseConnection() { transport().loseConnection(); }
void ProtocolWrapper::abortConnection() { transport().abortConnection(); }
void ProtocolWrapper::loseWriteConnection() { transport().loseWriteConnection(); }
void ProtocolWrapper::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  transport().registerProducer(std::move(producer), streaming);
}
void ProtocolWrapper::unregisterProducer() { transport().unregisterProducer(); }
void ProtocolWrapper::pauseProducing() { transport().pauseProducing(); }
void ProtocolWrapper::resumeProducing() { transport().resumeProducing(); }
void ProtocolWrapper::stopProducing() { transport().stopProducing(); }

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
void WrappingFactory::registerProtocol(ProtocolWrapper& wrapper) { live_.insert(&wrapper); }
void WrappingFactory::unregisterProtocol(ProtocolWrapper& wrapper) { live_.erase(&wrapper); }

}  // namespace torsion::protocols
