// Public. listenSSL, connectSSL and startTLS (Twisted's IReactorSSL and ITLSTransport),
// as free functions over the reactor interfaces.
#pragma once

#include <torsion/address.hpp>
#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/tls/options.hpp>
#include <torsion/tls/tls_transport.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace torsion::tls {

/// Listens for TLS connections on a TCP port (Twisted's reactor.listenSSL). A free
/// function rather than a reactor method, so that torsion::framework does not depend on
/// OpenSSL: it is listenTCP with a TLSMemoryBIOFactory around `factory`.
/// @param reactor a Reactor or testing::MemoryReactor.
/// @param port the port (0: the system picks).
/// @param factory builds the protocol of each connection; it speaks in plain text to a
/// TLSTransport.
/// @param options the server's certificate and settings.
/// @param backlog the listen() backlog.
/// @param interface the address to bind ("" for all IPv4).
/// @throws CannotListenError as listenTCP.
/// @code
/// torsion::tls::listenSSL(reactor, 8443, torsion::Factory::forProtocol<Echo>(),
///                         torsion::tls::ServerTLSOptions({"cert.pem", "key.pem"}));
/// @endcode
std::shared_ptr<ListeningPort> listenSSL(IReactorTCP& reactor, std::uint16_t port, std::shared_ptr<Factory> factory,
                                         const ServerTLSOptions& options, int backlog = 50,
                                         std::string_view interface = {});

/// Connects over TLS (Twisted's reactor.connectSSL): connectTCP with a
/// TLSMemoryBIOFactory around `factory`. The factory's clientConnectionFailed hears of a
/// failed TCP connection; a failed handshake reaches the protocol's connectionLost as a
/// TLSError (and then clientConnectionLost).
/// @param reactor a Reactor or testing::MemoryReactor.
/// @param host the host name or address to connect to.
/// @param port the port.
/// @param factory builds the protocol.
/// @param options what the server is verified against (its hostname need not be `host`:
/// connect to an address and verify a name).
/// @param timeout seconds for the TCP connection (the handshake has its own, in options).
/// @param bindAddress a local address to bind first, if any.
std::shared_ptr<Connector> connectSSL(IReactorTCP& reactor, std::string_view host, std::uint16_t port,
                                      std::shared_ptr<ClientFactory> factory, const ClientTLSOptions& options,
                                      double timeout = 30, std::optional<Address> bindAddress = std::nullopt);

/// Starts TLS as the client on a live connection (STARTTLS; Twisted's
/// transport.startTLS): call it from the protocol, with itself. Bytes the protocol wrote
/// before are sent first, in plain text; then the handshake runs, and the protocol's later
/// writes go through TLS (queued until the handshake completes). Its transport() becomes
/// the returned TLSTransport; connectionMade is not called again, handshakeCompleted is
/// if the protocol is an IHandshakeListener.
/// @throws std::logic_error if the protocol is not connected, or its transport cannot
/// take a wrapper (see Transport::replaceProtocol).
/// @code
/// void lineReceived(std::string_view line) override {
///   if (line == "220 go ahead") torsion::tls::startTLS(*this, options_);
/// }
/// @endcode
TLSTransport& startTLS(Protocol& protocol, const ClientTLSOptions& options);

/// Starts TLS as the server on a live connection (the STARTTLS server's side); as the
/// client overload otherwise.
TLSTransport& startTLS(Protocol& protocol, const ServerTLSOptions& options);

}  // namespace torsion::tls
