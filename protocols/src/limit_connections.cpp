#include <torsion/protocols/limit_connections.hpp>

#include <utility>

namespace torsion::protocols {

LimitTotalConnectionsFactory::LimitTotalConnectionsFactory(std::shared_ptr<Factory> wrapped,
                                                           std::size_t connectionLimit_)
    : WrappingFactory(std::move(wrapped)), connectionLimit(connectionLimit_) {}

std::shared_ptr<Protocol> LimitTotalConnectionsFactory::buildProtocol(const Address& address) {
  if (connectionCount() < connectionLimit) return WrappingFactory::buildProtocol(address);
  if (!overflowProtocol) return nullptr;
  std::shared_ptr<Protocol> overflow = overflowProtocol();
  if (!overflow) return nullptr;
  std::shared_ptr<Protocol> wrapper = wrapProtocol(std::move(overflow));
  wrapper->factory = shared_from_this();
  return wrapper;
}

LimitConnectionsByPeer::LimitConnectionsByPeer(std::shared_ptr<Factory> wrapped, std::size_t maxConnectionsPerPeer_)
    : WrappingFactory(std::move(wrapped)), maxConnectionsPerPeer(maxConnectionsPerPeer_) {}

std::shared_ptr<Protocol> LimitConnectionsByPeer::buildProtocol(const Address& address) {
  if (connectionsFrom(address.host) >= maxConnectionsPerPeer) return nullptr;
  return WrappingFactory::buildProtocol(address);
}

void LimitConnectionsByPeer::registerProtocol(ProtocolWrapper& wrapper) {
  WrappingFactory::registerProtocol(wrapper);
  std::string host = wrapper.transport().getPeer().host;
  ++perPeer_[host];
  hostOf_[&wrapper] = std::move(host);
}

void LimitConnectionsByPeer::unregisterProtocol(ProtocolWrapper& wrapper) {
  WrappingFactory::unregisterProtocol(wrapper);
  auto counted = hostOf_.find(&wrapper);
  if (counted == hostOf_.end()) return;
  auto peer = perPeer_.find(counted->second);
  if (peer != perPeer_.end() && --peer->second == 0) perPeer_.erase(peer);
  hostOf_.erase(counted);
}

std::size_t LimitConnectionsByPeer::connectionsFrom(const std::string& host) const {
  auto peer = perPeer_.find(host);
  return peer == perPeer_.end() ? 0 : peer->second;
}

}  // namespace torsion::protocols
