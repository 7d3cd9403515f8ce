#include "receiver_support.hpp"

#include <torsion/log.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

namespace torsion::protocols {

namespace detail {

void refuseInput(Protocol& protocol, std::string_view receiver, std::string_view reason) {
  const auto& transport = protocol.transportPtr();
  log::warn("{}: {} from {}; dropping the connection", receiver, reason,
            transport ? transport->getPeer().toString() : std::string("an unconnected peer"));
  if (transport) transport->loseConnection();
}

}  // namespace detail

void PausableReceiver::pauseProducing() {
  paused_ = true;
  if (transportPtr()) transport().pauseProducing();
}

void PausableReceiver::resumeProducing() {
  paused_ = false;
  if (transportPtr()) transport().resumeProducing();
  dataReceived({});  // delivers what was parsed-ahead while paused
}

void PausableReceiver::stopProducing() {
  paused_ = true;
  if (transportPtr()) transport().stopProducing();
}

}  // namespace torsion::protocols
