#include <torsion/log.hpp>
#include <torsion/reconnecting_client_factory.hpp>

#include <algorithm>
#include <stdexcept>

namespace torsion {

ReconnectingClientFactory::ReconnectingClientFactory(IReactorTime* clockToUse) : clock(clockToUse) {}

void ReconnectingClientFactory::clientConnectionFailed(Connector& failed, const Failure&) {
  if (!continueTrying) return;
  connector = failed.weak_from_this();
  retry(failed);
}

void ReconnectingClientFactory::clientConnectionLost(Connector& lost, const Failure&) {
  if (!continueTrying) return;
  connector = lost.weak_from_this();
  retry(lost);
}

void ReconnectingClientFactory::retry() {
  auto target = connector.lock();
  if (!target) throw std::logic_error("ReconnectingClientFactory::retry: no connector to retry");
  retry(*target);
}

void ReconnectingClientFactory::retry(Connector& target) {
  const std::string destination = target.getDestination().toString();
  if (!continueTrying) {
    log::info("ReconnectingClientFactory: abandoning {} on explicit request", destination);
    return;
  }
  if (clock == nullptr) {
    throw std::logic_error("ReconnectingClientFactory: set `clock` (usually to the reactor) before connecting");
  }
  ++retries;
  if (maxRetries && retries > *maxRetries) {
    log::info("ReconnectingClientFactory: abandoning {} after {} retries", destination, retries);
    return;
  }
  delay = std::min(delay * factor, maxDelay);
  if (jitter != 0 && delay * jitter > 0) {
    delay = std::max(0.0, std::normal_distribution<double>(delay, delay * jitter)(random_));
  }
  log::info("ReconnectingClientFactory: will retry {} in {:.3g} seconds", destination, delay);
  // The retry owns the connector until it runs (nothing else may), and does not keep
  // the factory alive: the connector already does while it exists.
  std::weak_ptr<Factory> self = weak_from_this();
  callID_ = clock->callLater(delay, [self, next = target.shared_from_this()] {
    if (auto factory = self.lock()) static_cast<ReconnectingClientFactory&>(*factory).callID_ = DelayedCall();
    if (next->state() == Connector::State::disconnected) next->connect();
  });
}

void ReconnectingClientFactory::stopTrying() {
  cancelIfActive(callID_);
  callID_ = DelayedCall();
  continueTrying = false;  // before stopConnecting, whose failure callback must not retry
  if (auto current = connector.lock(); current && current->state() == Connector::State::connecting) {
    current->stopConnecting();
  }
}

void ReconnectingClientFactory::resetDelay() {
  delay = initialDelay;
  retries = 0;
  callID_ = DelayedCall();
  continueTrying = true;
}

}  // namespace torsion
