// Public. TLS endpoints and the "ssl:" / "tls:" endpoint strings (Twisted's
// serverFromString("ssl:...") and clientFromString("tls:...")).
#pragma once

#include <torsion/endpoints.hpp>
#include <torsion/tls/options.hpp>

#include <memory>
#include <string_view>

namespace torsion::tls {

/// Listens through another server endpoint, each connection speaking TLS as `options`
/// say (the server side of Twisted's wrapClientTLS, for any stream endpoint).
///
/// Thread safety: use only on the thread that runs its reactor.
class TLSServerEndpoint : public IStreamServerEndpoint {
 public:
  /// @param inner where to listen (TCP, Unix, ...).
  /// @param options the server's certificate and settings.
  TLSServerEndpoint(std::shared_ptr<IStreamServerEndpoint> inner, ServerTLSOptions options);
  /// Listens on the inner endpoint with a TLSMemoryBIOFactory around `factory`.
  Deferred<std::shared_ptr<ListeningPort>> listen(std::shared_ptr<Factory> factory) override;

 private:
  std::shared_ptr<IStreamServerEndpoint> inner_;
  ServerTLSOptions options_;
};

/// Connects through another client endpoint and speaks TLS over it (Twisted's
/// wrapClientTLS). connect's Deferred fires with the user's protocol once its
/// connectionMade has run, which is before the handshake completes (writes are queued);
/// a failed handshake reaches the protocol's connectionLost as a TLSError.
///
/// Thread safety: use only on the thread that runs its reactor.
class TLSClientEndpoint : public IStreamClientEndpoint {
 public:
  /// @param inner how to reach the server (TCP, Unix, ...).
  /// @param options what the server is verified against.
  TLSClientEndpoint(std::shared_ptr<IStreamClientEndpoint> inner, ClientTLSOptions options);
  /// Connects through the inner endpoint with a TLS protocol around the user's.
  Deferred<std::shared_ptr<Protocol>> connect(std::shared_ptr<Factory> factory) override;

 private:
  std::shared_ptr<IStreamClientEndpoint> inner_;
  ClientTLSOptions options_;
};

/// torsion::serverFromString plus Twisted's "ssl:" type:
/// "ssl:8443:privateKey=key.pem:certKey=cert.pem[:interface=A][:backlog=N][:caCerts=ca.pem]".
/// `certKey` is the certificate chain (if omitted, `privateKey` must hold both);
/// `caCerts` (a PEM file) makes the server require client certificates issued by it.
/// Other types ("tcp:", "unix:") are passed to torsion::serverFromString.
/// @throws std::invalid_argument naming the bad part; TLSConfigurationError if a file
/// does not load.
std::shared_ptr<IStreamServerEndpoint> serverFromString(StreamReactors reactor, std::string_view description);

/// torsion::clientFromString plus Twisted's "tls:" type:
/// "tls:host=example.org:port=443[:timeout=S][:bindAddress=A][:trustRoots=ca.pem]
/// [:certificate=c.pem:privateKey=k.pem]" (or "tls:example.org:443"). The host name is
/// the one verified; `trustRoots` (a PEM file) replaces the system trust store.
/// Other types are passed to torsion::clientFromString.
/// @throws std::invalid_argument naming the bad part; TLSConfigurationError if a file
/// does not load.
std::shared_ptr<IStreamClientEndpoint> clientFromString(StreamReactors reactor, std::string_view description);

}  // namespace torsion::tls
