#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor.hpp>
#include <torsion/transport.hpp>

#include <stdexcept>

#include "protocol_access.hpp"

namespace torsion {

void Protocol::makeConnection(std::shared_ptr<Transport> transport) {
  transport_ = std::move(transport);
  connected_ = true;
  connectionMade();
}

Transport& Protocol::transport() const {
  if (!transport_) throw std::logic_error("Protocol::transport() called before makeConnection");
  return *transport_;
}

Reactor& Protocol::reactor() const {
  Reactor* reactor = transport().reactor();
  if (reactor == nullptr) {
    throw std::logic_error(
        "Protocol::reactor(): this protocol's transport has no reactor (a testing::StringTransport); code that "
        "only needs time can use clock(), which a test provides with StringTransport::setClock");
  }
  return *reactor;
}

IReactorTime& Protocol::clock() const {
  IReactorTime* clock = transport().clock();
  if (clock == nullptr) {
    throw std::logic_error(
        "Protocol::clock(): this protocol's transport has no clock; give a testing::StringTransport one with "
        "setClock");
  }
  return *clock;
}

DelayedCall Protocol::callLater(double delaySeconds, std::function<void()> fn) {
  return lifetime_.callLater(clock(), delaySeconds, std::move(fn));
}

void deliverConnectionLost(Protocol& protocol, const Failure& reason) {
  detail::ProtocolAccess::deliverConnectionLost(protocol, reason);
}

IReactorTime* Transport::clock() const noexcept { return reactor(); }

void Transport::setTcpNoDelay(bool) { throw std::logic_error("setTcpNoDelay: not a TCP transport"); }
bool Transport::getTcpNoDelay() const { throw std::logic_error("getTcpNoDelay: not a TCP transport"); }
void Transport::setTcpKeepAlive(bool) { throw std::logic_error("setTcpKeepAlive: not a TCP transport"); }
bool Transport::getTcpKeepAlive() const { throw std::logic_error("getTcpKeepAlive: not a TCP transport"); }
void Transport::setMaxQueuedOutput(std::size_t) {
  throw std::logic_error("setMaxQueuedOutput: this transport has no write queue of its own");
}
std::size_t Transport::maxQueuedOutput() const {
  throw std::logic_error("maxQueuedOutput: this transport has no write queue of its own");
}

std::shared_ptr<Protocol> Transport::replaceProtocol(Protocol&, std::shared_ptr<Protocol>) {
  throw std::logic_error("replaceProtocol: this kind of transport cannot change its protocol");
}

std::shared_ptr<Protocol> Factory::buildProtocol(const Address&) {
  if (!protocol) {
    throw std::logic_error("Factory::buildProtocol: set `protocol`, use forProtocol<P>(), or override buildProtocol");
  }
  std::shared_ptr<Protocol> built = protocol();
  if (built) built->factory = shared_from_this();
  return built;
}

void Factory::doStart() {
  if (numPorts_++ == 0) startFactory();
}

void Factory::doStop() {
  if (numPorts_ == 0) return;  // unbalanced stop: ignore, as Twisted does
  if (--numPorts_ == 0) stopFactory();
}

}  // namespace torsion
