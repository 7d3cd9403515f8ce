#include <torsion/tls/tls_factory.hpp>

#include <stdexcept>
#include <utility>

#include "tls_protocol.hpp"

namespace torsion::tls {

TLSMemoryBIOFactory::TLSMemoryBIOFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> wrapped)
    : context_(options.context()), wrapped_(std::move(wrapped)) {
  if (!wrapped_) throw std::invalid_argument("TLSMemoryBIOFactory: the wrapped factory is null");
}

TLSMemoryBIOFactory::TLSMemoryBIOFactory(const ServerTLSOptions& options, std::shared_ptr<Factory> wrapped)
    : context_(options.context()), wrapped_(std::move(wrapped)) {
  if (!wrapped_) throw std::invalid_argument("TLSMemoryBIOFactory: the wrapped factory is null");
}

std::shared_ptr<Protocol> TLSMemoryBIOFactory::buildProtocol(const Address& address) {
  std::shared_ptr<Protocol> inner = wrapped_->buildProtocol(address);
  if (!inner) return nullptr;
  auto built = std::make_shared<detail::TlsProtocol>(context_, std::move(inner), detail::TlsStart::connection);
  built->factory = shared_from_this();
  return built;
}

void TLSMemoryBIOFactory::startFactory() { wrapped_->doStart(); }
void TLSMemoryBIOFactory::stopFactory() { wrapped_->doStop(); }

void TLSMemoryBIOFactory::startedConnecting(Connector& connector) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->startedConnecting(connector);
}

void TLSMemoryBIOFactory::clientConnectionFailed(Connector& connector, const Failure& reason) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->clientConnectionFailed(connector, reason);
}

void TLSMemoryBIOFactory::clientConnectionLost(Connector& connector, const Failure& reason) {
  if (auto* client = dynamic_cast<ClientFactory*>(wrapped_.get())) client->clientConnectionLost(connector, reason);
}

std::shared_ptr<ClientFactory> wrapClientFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> factory) {
  return std::make_shared<TLSMemoryBIOFactory>(options, std::move(factory));
}

std::shared_ptr<Protocol> wrapClientProtocol(const ClientTLSOptions& options, std::shared_ptr<Protocol> protocol) {
  if (!protocol) throw std::invalid_argument("wrapClientProtocol: the protocol is null");
  return std::make_shared<detail::TlsProtocol>(options.context(), std::move(protocol), detail::TlsStart::connection);
}

}  // namespace torsion::tls
