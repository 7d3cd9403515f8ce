#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/transport.hpp>

#include <stdexcept>

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

void Transport::setTcpNoDelay(bool) { throw std::logic_error("setTcpNoDelay: not a TCP transport"); }
bool Transport::getTcpNoDelay() const { throw std::logic_error("getTcpNoDelay: not a TCP transport"); }
void Transport::setTcpKeepAlive(bool) { throw std::logic_error("setTcpKeepAlive: not a TCP transport"); }
bool Transport::getTcpKeepAlive() const { throw std::logic_error("getTcpKeepAlive: not a TCP transport"); }

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
