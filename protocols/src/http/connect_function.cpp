// plainConnect: the HTTP client's connections over plain TCP only (https refused).
#include <torsion/http/connect_function.hpp>

#include <torsion/http/errors.hpp>
#include <torsion/http/proxy_tunnel.hpp>

namespace torsion::http {

std::shared_ptr<Connector> plainConnect(IReactorTCP& reactor, const ConnectionKey& key,
                                        std::shared_ptr<ClientFactory> factory, double timeout) {
  if (key.scheme == "http") {
    if (key.tunnel) return connectThroughProxy(reactor, key, std::move(factory), timeout);
    return reactor.connectTCP(key.host, key.port, std::move(factory), timeout);
  }
  if (key.scheme == "https") {
    throw TlsUnavailableError("Cannot fetch https://" + key.host + ":" + std::to_string(key.port) +
                              ": plainConnect does not speak TLS (use tlsConnect; nothing was sent)");
  }
  throw UnsupportedSchemeError("The HTTP client cannot connect with scheme \"" + key.scheme + "\"");
}

}  // namespace torsion::http
