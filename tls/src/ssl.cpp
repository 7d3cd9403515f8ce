#include <torsion/tls/ssl.hpp>
#include <torsion/tls/tls_factory.hpp>

#include <stdexcept>
#include <utility>

#include "tls_protocol.hpp"

namespace torsion::tls {

std::shared_ptr<ListeningPort> listenSSL(IReactorTCP& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         const ServerTLSOptions& options, int backlog, std::string_view interface) {
  return reactor.listenTCP(port, std::make_shared<TLSMemoryBIOFactory>(options, std::move(factory)), backlog,
                           interface);
}

std::shared_ptr<Connector> connectSSL(IReactorTCP& reactor, std::string_view host, std::uint16_t port,
                                      std::shared_ptr<ClientFactory> factory, const ClientTLSOptions& options,
                                      double timeout, std::optional<Address> bindAddress) {
  return reactor.connectTCP(host, port, std::make_shared<TLSMemoryBIOFactory>(options, std::move(factory)), timeout,
                            std::move(bindAddress));
}

namespace {

TLSTransport& startTLSWith(Protocol& protocol, std::shared_ptr<detail::TlsContext> context) {
  if (!protocol.transportPtr() || !protocol.connected())
    throw std::logic_error("startTLS: the protocol is not connected");
  // As Twisted's startTLS: a TLS protocol made without a factory goes under the
  // connected protocol; its handshake starts after the plain text already queued.
  auto tls = std::make_shared<detail::TlsProtocol>(std::move(context), nullptr, nullptr);
  tls->wrapConnected(protocol);
  return *tls;
}

}  // namespace

TLSTransport& startTLS(Protocol& protocol, const ClientTLSOptions& options) {
  return startTLSWith(protocol, options.context());
}

TLSTransport& startTLS(Protocol& protocol, const ServerTLSOptions& options) {
  return startTLSWith(protocol, options.context());
}

}  // namespace torsion::tls
