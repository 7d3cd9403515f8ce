// Public. TLSMemoryBIOFactory: a factory whose connections speak TLS over whatever stream
// transport they are given (Twisted's TLSMemoryBIOFactory).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/protocol_wrapper.hpp>
#include <torsion/tls/options.hpp>

#include <memory>

namespace torsion::tls {

/// Wraps another factory so that each of its protocols speaks TLS: each connection gets a
/// TLS protocol (the Protocol of the real transport) that is itself the TLSTransport of
/// the wrapped factory's protocol. Works over any stream transport: TCP, Unix sockets,
/// every backend, testing::StringTransport.
///
/// It is a WrappingFactory (as Twisted's TLSMemoryBIOFactory): it counts its live
/// connections and passes startedConnecting, clientConnectionFailed and
/// clientConnectionLost on to the wrapped factory when that is a ClientFactory.
///
/// @code
/// auto tlsFactory = std::make_shared<torsion::tls::TLSMemoryBIOFactory>(
///     torsion::tls::optionsForClientTLS("example.org"), myClientFactory);
/// reactor.connectTCP("example.org", 443, tlsFactory);   // what connectSSL does
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class TLSMemoryBIOFactory : public WrappingFactory {
 public:
  /// A client side: connections verify the server as `options` say.
  /// @throws std::invalid_argument if `wrapped` is null.
  TLSMemoryBIOFactory(const ClientTLSOptions& options, std::shared_ptr<Factory> wrapped);

  /// A server side: connections present `options`' certificate.
  /// @throws std::invalid_argument if `wrapped` is null.
  TLSMemoryBIOFactory(const ServerTLSOptions& options, std::shared_ptr<Factory> wrapped);

 protected:
  /// Puts a TLS protocol around one protocol the wrapped factory built.
  std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped) override;

 private:
  std::shared_ptr<detail::TlsContext> context_;
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
