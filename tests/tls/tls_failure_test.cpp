// Handshake failures that are not about certificates, on every backend: no version in
// common (either side capped), no cipher in common (named by the side that found it; the
// other only knows the alert), and a peer that resets in the middle
// of the handshake. Each names its cause, and only that connection is lost.
#include <torsion/tls.hpp>

#include <deque>
#include <optional>
#include <string>

#include "raw_socket.hpp"
#include "tls_names.hpp"

namespace {

class TlsFailureTest : public torsion_test::BackendTest {
 protected:
  // A client that queues a secret at once meets a server; both must be refused, and the
  // secret never arrives.
  void connectOnce(const tls::ServerTLSOptions& server, const tls::ClientTLSOptions& client) {
    auto reactorOwner = torsion_test::makeReactor(backend());
    torsion::Reactor& reactor = *reactorOwner;
    auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(serverSeen), true), server,
                               50, "127.0.0.1");
    tls::connectSSL(reactor, "127.0.0.1", port->getHost().port,
                    torsion::ClientFactory::forProtocol<Recorder>(std::ref(clientSeen), false, "secret"), client);
    ASSERT_TRUE(runUntil(
        reactor, [&] { return (clientSeen.lost && serverSeen.lost) || !serverSeen.received.empty(); }, 10,
        "both ends to be refused"));
  }
  // Both ends failed, the server with `kind`, the client with `clientKind` (the same
  // unless given); each message contains its words.
  void expectBothRefused(tls::TLSErrorKind kind, const std::string& serverWords, const std::string& clientWords,
                         std::optional<tls::TLSErrorKind> clientKind = std::nullopt) {
    ASSERT_TRUE(serverSeen.lost && clientSeen.lost) << "the handshake succeeded";
    EXPECT_EQ(tlsKind(*serverSeen.lost), kind) << serverSeen.lost->toString();
    EXPECT_EQ(tlsKind(*clientSeen.lost), clientKind.value_or(kind)) << clientSeen.lost->toString();
    EXPECT_NE(serverSeen.lost->getErrorMessage().find(serverWords), std::string::npos)
        << serverSeen.lost->getErrorMessage();
    EXPECT_NE(clientSeen.lost->getErrorMessage().find(clientWords), std::string::npos)
        << clientSeen.lost->getErrorMessage();
    EXPECT_TRUE(serverSeen.received.empty()) << "the server got application data: " << serverSeen.received;
    EXPECT_FALSE(clientSeen.handshake);
    EXPECT_FALSE(serverSeen.handshake);
  }
  Seen serverSeen, clientSeen;
};

TEST_P(TlsFailureTest, AServerRequiringTls13RefusesAClientCappedAtTls12) {
  tls::ServerTLSSettings server;
  server.minimumVersion = tls::TLSVersion::tls1_3;
  tls::ClientTLSSettings client;
  client.maximumVersion = tls::TLSVersion::tls1_2;
  connectOnce(serverOptions(server), clientOptions("localhost", {}, client));
  expectBothRefused(tls::TLSErrorKind::noSharedVersion, "unsupported protocol", "alert protocol version");
}

TEST_P(TlsFailureTest, AClientRequiringTls13RefusesAServerCappedAtTls12) {
  tls::ServerTLSSettings server;
  server.maximumVersion = tls::TLSVersion::tls1_2;
  tls::ClientTLSSettings client;
  client.minimumVersion = tls::TLSVersion::tls1_3;
  connectOnce(serverOptions(server), clientOptions("localhost", {}, client));
  expectBothRefused(tls::TLSErrorKind::noSharedVersion, "unsupported protocol", "alert protocol version");
}

TEST_P(TlsFailureTest, NoSharedTls13CipherSuiteIsNamed) {
  tls::ServerTLSSettings server;
  server.tls13CipherSuites = "TLS_AES_128_GCM_SHA256";
  tls::ClientTLSSettings client;
  client.tls13CipherSuites = "TLS_CHACHA20_POLY1305_SHA256";
  connectOnce(serverOptions(server), clientOptions("localhost", {}, client));
  // The server knows the cause; the client only knows the alert it received, which a
  // peer also sends for other refusals, so it reports the alert and presumes nothing.
  expectBothRefused(tls::TLSErrorKind::noSharedCipher, "no shared cipher",
                    "the peer sent the alert 'handshake failure' (40)", tls::TLSErrorKind::handshakeFailed);
  EXPECT_EQ(clientSeen.lost->getErrorMessage().find("no shared cipher"), std::string::npos)
      << clientSeen.lost->getErrorMessage();
}

TEST_P(TlsFailureTest, NoSharedTls12CipherIsNamed) {
  tls::ServerTLSSettings server;
  server.maximumVersion = tls::TLSVersion::tls1_2;
  server.tls12Ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
  tls::ClientTLSSettings client;
  client.maximumVersion = tls::TLSVersion::tls1_2;
  client.tls12Ciphers = "ECDHE-RSA-CHACHA20-POLY1305";
  connectOnce(serverOptions(server), clientOptions("localhost", {}, client));
  // The server knows the cause; the client only knows the alert it received, which a
  // peer also sends for other refusals, so it reports the alert and presumes nothing.
  expectBothRefused(tls::TLSErrorKind::noSharedCipher, "no shared cipher",
                    "the peer sent the alert 'handshake failure' (40)", tls::TLSErrorKind::handshakeFailed);
  EXPECT_EQ(clientSeen.lost->getErrorMessage().find("no shared cipher"), std::string::npos)
      << clientSeen.lost->getErrorMessage();
}

TEST(TlsSettings, ImpossibleVersionsAndCipherListsAreConfigurationErrors) {
  tls::ClientTLSSettings inverted;
  inverted.minimumVersion = tls::TLSVersion::tls1_3;
  inverted.maximumVersion = tls::TLSVersion::tls1_2;
  EXPECT_THROW(clientOptions("localhost", {}, inverted), tls::TLSConfigurationError);
  tls::ServerTLSSettings unknown;
  unknown.tls12Ciphers = "NO-SUCH-CIPHER";
  EXPECT_THROW(serverOptions(unknown), tls::TLSConfigurationError);
  unknown.tls12Ciphers.clear();
  unknown.tls13CipherSuites = "TLS_NO_SUCH_SUITE";
  EXPECT_THROW(serverOptions(unknown), tls::TLSConfigurationError);
}

// A raw peer sends the start of a ClientHello (a record header promising 512 bytes, and
// a few of them), then resets (SO_LINGER 0). That connection alone is lost, with a
// ConnectionLost, while a TLS client connected beside it keeps echoing (issue 14).
TEST_P(TlsFailureTest, APeerThatResetsMidHandshakeLosesOnlyItsConnection) {
  // Declared before the reactor, whose end closes the connections that write into them.
  std::deque<Seen> servers;
  Seen after;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto serverFactory = std::make_shared<torsion::Factory>();
  serverFactory->protocol = [&]() -> std::shared_ptr<torsion::Protocol> {
    return std::make_shared<Recorder>(servers.emplace_back(), true);
  };
  auto port = tls::listenSSL(reactor, 0, serverFactory, serverOptions(), 50, "127.0.0.1");
  tls::connectSSL(reactor, "127.0.0.1", port->getHost().port,
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(clientSeen), false, "before"),
                  clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clientSeen.received == "before"; }, 10, "the first echo"));

  auto raw = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 2; }, 10, "the raw peer's accept"));
  static const char partialClientHello[] =
      "\x16\x03\x01\x02\x00"      // handshake record, 512 bytes
      "\x01\x00\x01\xfc\x03\x03"  // ClientHello, TLS 1.2 legacy version
      "0123456789abcdef";         // part of the random
  torsion_test::sendAll(raw.get(), std::string_view(partialClientHello, sizeof partialClientHello - 1));
  torsion_test::resetAndClose(raw);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[1].lost.has_value(); }, 10, "the reset connection to be lost"));
  const torsion::Failure& lost = *servers[1].lost;
  EXPECT_TRUE(lost.check<torsion::ConnectionLost>()) << lost.toString();
  EXPECT_FALSE(lost.check<torsion::ConnectionDone>()) << lost.toString();
  EXPECT_FALSE(servers[1].handshake);

  // The other connection and the listening port are untouched.
  EXPECT_FALSE(servers[0].lost.has_value()) << servers[0].lost->toString();
  tls::connectSSL(reactor, "127.0.0.1", port->getHost().port,
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(after), false, "after"), clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return after.received == "after"; }, 10, "an echo on a new connection"));
  EXPECT_FALSE(clientSeen.lost.has_value());
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TlsFailureTest);

}  // namespace
