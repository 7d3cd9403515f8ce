// tlsConnect: https through torsion::tls, http through plainConnect.
#include <torsion/http/tls_connect.hpp>

#include <torsion/http/proxy_tunnel.hpp>
#include <torsion/tls/tls_factory.hpp>

#include <map>
#include <mutex>

namespace torsion::http {

namespace {

// The client options of each host name, made on first use: building one loads the trust
// root into an OpenSSL context, too costly for every connection, and keeping it lets
// later connections resume the session.
class TlsOptionsCache {
 public:
  TlsOptionsCache(tls::TrustRoot trustRoot, tls::ClientTLSSettings settings)
      : trustRoot_(std::move(trustRoot)), settings_(std::move(settings)) {}

  tls::ClientTLSOptions forHost(const std::string& host) {
    std::lock_guard lock(mutex_);
    auto found = byHost_.find(host);
    if (found == byHost_.end()) {
      found = byHost_.emplace(host, tls::optionsForClientTLS(host, trustRoot_, std::nullopt, settings_)).first;
    }
    return found->second;
  }

 private:
  std::mutex mutex_;
  tls::TrustRoot trustRoot_;
  tls::ClientTLSSettings settings_;
  std::map<std::string, tls::ClientTLSOptions> byHost_;
};

}  // namespace

ConnectFunction tlsConnect(tls::TrustRoot trustRoot, tls::ClientTLSSettings settings) {
  auto cache = std::make_shared<TlsOptionsCache>(std::move(trustRoot), std::move(settings));
  return [cache](IReactorTCP& reactor, const ConnectionKey& key, std::shared_ptr<ClientFactory> factory,
                 double timeout) -> std::shared_ptr<Connector> {
    if (key.scheme != "https") return plainConnect(reactor, key, std::move(factory), timeout);
    // Verified against the target's name even through a proxy's tunnel.
    auto tlsFactory = tls::wrapClientFactory(cache->forHost(key.host), std::move(factory));
    if (key.tunnel) return connectThroughProxy(reactor, key, std::move(tlsFactory), timeout);
    return reactor.connectTCP(key.host, key.port, std::move(tlsFactory), timeout);
  };
}

}  // namespace torsion::http
