#include <torsion/protocols/throttling_factory.hpp>

#include <utility>

namespace torsion::protocols {

namespace {

// Counts what passes for the factory, and holds the producer the wrapped protocol
// registered, so that the factory can pause it for the write limit.
class ThrottlingProtocol final : public ProtocolWrapper {
 public:
  ThrottlingProtocol(std::shared_ptr<ThrottlingFactory> owner, std::shared_ptr<Protocol> wrapped)
      : ProtocolWrapper(owner, std::move(wrapped)), throttling_(*owner) {}

  void dataReceived(Bytes data) override {
    throttling_.registerRead(data.size());
    ProtocolWrapper::dataReceived(data);
  }
  void write(Bytes data) override {
    throttling_.registerWritten(data.size());
    ProtocolWrapper::write(data);
  }
  void writeSequence(std::span<const Bytes> data) override {
    for (Bytes piece : data) throttling_.registerWritten(piece.size());
    ProtocolWrapper::writeSequence(data);
  }
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override {
    producer_ = streaming ? std::dynamic_pointer_cast<IPushProducer>(producer) : nullptr;
    ProtocolWrapper::registerProducer(std::move(producer), streaming);
  }
  void unregisterProducer() override {
    producer_.reset();
    ProtocolWrapper::unregisterProducer();
  }

  void throttleReads() { transport().pauseProducing(); }
  void unthrottleReads() { transport().resumeProducing(); }
  void throttleWrites() {
    if (producer_) producer_->pauseProducing();
  }
  void unthrottleWrites() {
    if (producer_) producer_->resumeProducing();
  }

 private:
  ThrottlingFactory& throttling_;  // owned by the base class's factory pointer
  std::shared_ptr<IPushProducer> producer_;
};

template <class Step>
void forEachThrottled(const WrappingFactory& factory, Step step) {
  for (ProtocolWrapper* wrapper : factory.liveProtocols()) step(static_cast<ThrottlingProtocol&>(*wrapper));
}

}  // namespace

ThrottlingFactory::ThrottlingFactory(IReactorTime& clock, std::shared_ptr<Factory> wrapped,
                                     std::size_t maxConnectionCount_, std::uint64_t readLimit_,
                                     std::uint64_t writeLimit_)
    : WrappingFactory(std::move(wrapped)),
      maxConnectionCount(maxConnectionCount_),
      readLimit(readLimit_),
      writeLimit(writeLimit_),
      clock_(clock) {}

ThrottlingFactory::~ThrottlingFactory() { cancelTimers(); }

std::shared_ptr<ProtocolWrapper> ThrottlingFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<ThrottlingProtocol>(std::static_pointer_cast<ThrottlingFactory>(self()), std::move(wrapped));
}

std::shared_ptr<Protocol> ThrottlingFactory::buildProtocol(const Address& address) {
  if (connectionCount() >= maxConnectionCount) return nullptr;
  return WrappingFactory::buildProtocol(address);
}

void ThrottlingFactory::registerProtocol(ProtocolWrapper& wrapper) {
  WrappingFactory::registerProtocol(wrapper);
  // A connection made while reading is throttled waits with the others.
  if (readsThrottled_) static_cast<ThrottlingProtocol&>(wrapper).throttleReads();
  if (connectionCount() != 1) return;
  if (readLimit > 0) checkReads_ = schedule(1, &ThrottlingFactory::checkReadBandwidth);
  if (writeLimit > 0) checkWrites_ = schedule(1, &ThrottlingFactory::checkWriteBandwidth);
}

void ThrottlingFactory::unregisterProtocol(ProtocolWrapper& wrapper) {
  WrappingFactory::unregisterProtocol(wrapper);
  if (connectionCount() == 0) {
    cancelTimers();
    readsThrottled_ = false;
    writesThrottled_ = false;
  }
}

DelayedCall ThrottlingFactory::schedule(double seconds, void (ThrottlingFactory::*step)()) {
  // The factory may go before the clock: the timer holds it weakly.
  std::weak_ptr<Factory> weak = weak_from_this();
  return clock_.callLater(seconds, [weak, step] {
    if (auto factory = weak.lock()) (static_cast<ThrottlingFactory&>(*factory).*step)();
  });
}

void ThrottlingFactory::cancelTimers() {
  for (DelayedCall* call : {&checkReads_, &checkWrites_, &unthrottleReads_, &unthrottleWrites_}) {
    if (call->active()) call->cancel();
    *call = DelayedCall();
  }
}

void ThrottlingFactory::checkReadBandwidth() {
  if (readLimit > 0 && readThisSecond_ > readLimit && !readsThrottled_) {
    throttleReads();
    // Paused for as long as the excess takes at the limit.
    const double pause = static_cast<double>(readThisSecond_) / static_cast<double>(readLimit) - 1.0;
    unthrottleReads_ = schedule(pause, &ThrottlingFactory::unthrottleReads);
  }
  totalRead_ += readThisSecond_;
  readThisSecond_ = 0;
  checkReads_ = schedule(1, &ThrottlingFactory::checkReadBandwidth);
}

void ThrottlingFactory::checkWriteBandwidth() {
  if (writeLimit > 0 && writtenThisSecond_ > writeLimit && !writesThrottled_) {
    throttleWrites();
    const double pause = static_cast<double>(writtenThisSecond_) / static_cast<double>(writeLimit) - 1.0;
    unthrottleWrites_ = schedule(pause, &ThrottlingFactory::unthrottleWrites);
  }
  totalWritten_ += writtenThisSecond_;
  writtenThisSecond_ = 0;
  checkWrites_ = schedule(1, &ThrottlingFactory::checkWriteBandwidth);
}

void ThrottlingFactory::throttleReads() {
  readsThrottled_ = true;
  forEachThrottled(*this, [](ThrottlingProtocol& p) { p.throttleReads(); });
}

void ThrottlingFactory::unthrottleReads() {
  readsThrottled_ = false;
  forEachThrottled(*this, [](ThrottlingProtocol& p) { p.unthrottleReads(); });
}

void ThrottlingFactory::throttleWrites() {
  writesThrottled_ = true;
  forEachThrottled(*this, [](ThrottlingProtocol& p) { p.throttleWrites(); });
}

void ThrottlingFactory::unthrottleWrites() {
  writesThrottled_ = false;
  forEachThrottled(*this, [](ThrottlingProtocol& p) { p.unthrottleWrites(); });
}

}  // namespace torsion::protocols
