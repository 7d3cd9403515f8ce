#include <torsion/tls/tls_factory.hpp>

#include <stdexcept>
#include <utility>

#include "tls_protocol.hpp"

namespace torsion::tls {

TLSMemoryBIOFactory::TLSMemoryBIOFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> wrapped)
    : WrappingFactory(std::move(wrapped)), context_(options.context()) {}

TLSMemoryBIOFactory::TLSMemoryBIOFactory(const ServerTLSOptions& options, std::shared_ptr<Factory> wrapped)
    : WrappingFactory(std::move(wrapped)), context_(options.context()) {}

std::shared_ptr<ProtocolWrapper> TLSMemoryBIOFactory::wrapProtocol(std::shared_ptr<Protocol> wrapped) {
  return std::make_shared<detail::TlsProtocol>(context_, self(), std::move(wrapped));
}

std::shared_ptr<ClientFactory> wrapClientFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> factory) {
  return std::make_shared<TLSMemoryBIOFactory>(options, std::move(factory));
}

std::shared_ptr<Protocol> wrapClientProtocol(const ClientTLSOptions& options, std::shared_ptr<Protocol> protocol) {
  if (!protocol) throw std::invalid_argument("wrapClientProtocol: the protocol is null");
  return std::make_shared<detail::TlsProtocol>(options.context(), nullptr, std::move(protocol));
}

}  // namespace torsion::tls
