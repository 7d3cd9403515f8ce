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

  // Reading is paused on the real transport; writing through the producer the wrapped
  // protocol registered (a protocol without one cannot be made to write less).
  void throttleReads(bool paused) { paused ? transport().pauseProducing() : transport().resumeProducing(); }
  void throttleWrites(bool paused) {
    if (!producer_) return;
    paused ? producer_->pauseProducing() : producer_->resumeProducing();
  }

 private:
  ThrottlingFactory& throttling_;  // owned by the base class's factory pointer
  std::shared_ptr<IPushProducer> producer_;
};

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
  if (reads_.throttled) static_cast<ThrottlingProtocol&>(wrapper).throttleReads(true);
  if (connectionCount() != 1) return;
  for (Way way : {Way::reads, Way::writes}) {
    if (limit(way) > 0) direction(way).check = schedule(1, way, &ThrottlingFactory::checkBandwidth);
  }
}

void ThrottlingFactory::unregisterProtocol(ProtocolWrapper& wrapper) {
  WrappingFactory::unregisterProtocol(wrapper);
  if (connectionCount() == 0) {
    cancelTimers();
    reads_.throttled = false;
    writes_.throttled = false;
  }
}

DelayedCall ThrottlingFactory::schedule(double seconds, Way way, void (ThrottlingFactory::*step)(Way)) {
  // The factory may go before the clock: the timer holds it weakly.
  std::weak_ptr<Factory> weak = weak_from_this();
  return clock_.callLater(seconds, [weak, way, step] {
    if (auto factory = weak.lock()) (static_cast<ThrottlingFactory&>(*factory).*step)(way);
  });
}

void ThrottlingFactory::cancelTimers() {
  for (Direction* way : {&reads_, &writes_}) {
    for (DelayedCall* call : {&way->check, &way->unthrottle}) {
      cancelIfActive(*call);
      *call = DelayedCall();
    }
  }
}

void ThrottlingFactory::checkBandwidth(Way way) {
  Direction& counted = direction(way);
  const std::uint64_t most = limit(way);
  if (most > 0 && counted.thisSecond > most && !counted.throttled) {
    setThrottled(way, true);
    // Paused for as long as the excess takes at the limit.
    const double pause = static_cast<double>(counted.thisSecond) / static_cast<double>(most) - 1.0;
    counted.unthrottle = schedule(pause, way, &ThrottlingFactory::unthrottle);
  }
  counted.total += counted.thisSecond;
  counted.thisSecond = 0;
  counted.check = schedule(1, way, &ThrottlingFactory::checkBandwidth);
}

void ThrottlingFactory::setThrottled(Way way, bool throttled) {
  direction(way).throttled = throttled;
  for (ProtocolWrapper* wrapper : liveProtocols()) {
    auto& connection = static_cast<ThrottlingProtocol&>(*wrapper);
    way == Way::reads ? connection.throttleReads(throttled) : connection.throttleWrites(throttled);
  }
}

}  // namespace torsion::protocols
