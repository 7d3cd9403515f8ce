#include <torsion/protocols/timeout_factory.hpp>
#include <torsion/protocols/timeout_mixin.hpp>

#include <stdexcept>
#include <utility>

namespace torsion::protocols {

namespace {

// A wrapper whose reads and writes count as activity.
class TimeoutProtocol final : public TimeoutMixin<ProtocolWrapper> {
 public:
  TimeoutProtocol(std::shared_ptr<WrappingFactory> owner, std::shared_ptr<Protocol> wrapped, double period)
      : TimeoutMixin(std::move(owner), std::move(wrapped)), period_(period) {}

  void connectionMade() override {
    setTimeout(period_);
    ProtocolWrapper::connectionMade();
  }
  void dataReceived(Bytes data) override {
    resetTimeout();
    ProtocolWrapper::dataReceived(data);
  }
  void write(Bytes data) override {
    resetTimeout();
    ProtocolWrapper::write(data);
  }
  void writeSequence(std::span<const Bytes> data) override {
    resetTimeout();
    ProtocolWrapper::writeSequence(data);
  }

 private:
  double period_;
};

}  // namespace

TimeoutFactory::TimeoutFactory(std::shared_ptr<Factory> wrapped, double timeoutPeriod_)
    : WrappingFactory(std::move(wrapped)), timeoutPeriod(timeoutPeriod_) {
  if (!(timeoutPeriod > 0)) throw std::invalid_argument("TimeoutFactory: the timeout period must be positive");
}

std::shared_ptr<ProtocolWrapper> TimeoutFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<TimeoutProtocol>(self(), std::move(wrapped), timeoutPeriod);
}

}  // namespace torsion::protocols
