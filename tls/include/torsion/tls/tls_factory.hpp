// Public. TLSMemoryBIOFactory: a factory whose connections speak TLS over whatever stream
// transport they are given (Twisted's TLSMemoryBIOFactory).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/tls/options.hpp>

#include <memory>

namespace torsion::tls {

/// Wraps another factory so that each of its protocols speaks TLS: each connection gets a
/// TLS protocol (the Protocol of the real transport) that is itself the TLSTransport of
/// the wrapped factory's protocol. Works over any stream transport: TCP, Unix sockets,
/// every backend, testing::StringTransport.
///
/// As a ClientFactory it passes startedConnecting, clientConnectionFailed and
/// clientConnectionLost on to the wrapped factory when that is a ClientFactory.
///
/// @code
/// auto tlsFactory = std::make_shared<torsion::tls::TLSMemoryBIOFactory>(
///     torsion::tls::optionsForClientTLS("example.org"), myClientFactory);
/// reactor.connectTCP("example.org", 443, tlsFactory);   // what connectSSL does
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class TLSMemoryBIOFactory : public ClientFactory {
 public:
  /// A client side: connections verify the server as `options` say.
  TLSMemoryBIOFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> wrapped);

  /// A server side: connections present `options`' certificate.
  TLSMemoryBIOFactory(const ServerTLSOptions& options, std::shared_ptr<Factory> wrapped);

  /// Builds the wrapped factory's protocol and puts a TLS protocol around it; nullptr if
  /// the wrapped factory refused.
  std::shared_ptr<Protocol> buildProtocol(const Address& address) override;
  /// Starts the wrapped factory.
  void startFactory() override;
  /// Stops the wrapped factory.
  void stopFactory() override;
  /// Passed on to the wrapped factory if it is a ClientFactory.
  void startedConnecting(Connector& connector) override;
  /// Passed on to the wrapped factory if it is a ClientFactory.
  void clientConnectionFailed(Connector& connector, const Failure& reason) override;
  /// Passed on to the wrapped factory if it is a ClientFactory.
  void clientConnectionLost(Connector& connector, const Failure& reason) override;

  /// The wrapped factory.
  const std::shared_ptr<Factory>& wrappedFactory() const noexcept { return wrapped_; }

 private:
  std::shared_ptr<detail::TlsContext> context_;
  std::shared_ptr<Factory> wrapped_;
};

/// A client factory whose connections speak TLS as `options` say, over any transport the
/// factory is used with: the one call another client (an HTTP agent) needs to add https.
/// @code
/// reactor.connectTCP(host, 443, torsion::tls::wrapClientFactory(torsion::tls::optionsForClientTLS(host), factory));
/// @endcode
std::shared_ptr<ClientFactory> wrapClientFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> factory);

/// Puts a client-side TLS protocol around an already-made protocol: the returned protocol
/// is the one to connect to a transport (for code that builds its protocol itself).
std::shared_ptr<Protocol> wrapClientProtocol(const ClientTLSOptions& options, std::shared_ptr<Protocol> protocol);

}  // namespace torsion::tls
