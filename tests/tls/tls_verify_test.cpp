// Certificate verification and mutual TLS on every backend: each refusal names its cause,
// and nothing the client queued is ever sent when the handshake fails. Also STARTTLS.
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/tls.hpp>

#include <memory>
#include <optional>
#include <string>

#include "loopback_server.hpp"
#include "tls_names.hpp"

namespace {

class TlsVerifyTest : public torsion_test::BackendTest {
 protected:
  // Connects a client that writes a secret at once (queued until the handshake) to a
  // server presenting `certificate`; returns what both saw.
  void connectOnce(const tls::ServerTLSOptions& server, const tls::ClientTLSOptions& client) {
    auto reactorOwner = torsion_test::makeReactor(backend());
    torsion::Reactor& reactor = *reactorOwner;
    auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(serverSeen), true), server,
                               50, "127.0.0.1");
    tls::connectSSL(reactor, "127.0.0.1", port->getHost().port,
                    torsion::ClientFactory::forProtocol<Recorder>(std::ref(clientSeen), false, "secret"), client);
    // Refused: both ends are told; accepted: the secret arrives.
    ASSERT_TRUE(runUntil(
        reactor, [&] { return (clientSeen.lost && serverSeen.lost) || serverSeen.received == "secret"; }, 10,
        "both ends to finish, or the secret to arrive"));
  }
  void expectRefused(tls::TLSErrorKind kind, const std::string& words) {
    ASSERT_TRUE(clientSeen.lost);
    EXPECT_EQ(tlsKind(*clientSeen.lost), kind) << clientSeen.lost->toString();
    EXPECT_NE(clientSeen.lost->getErrorMessage().find(words), std::string::npos) << clientSeen.lost->getErrorMessage();
    EXPECT_TRUE(serverSeen.received.empty()) << "the server got application data: " << serverSeen.received;
    EXPECT_FALSE(clientSeen.handshake);
  }
  tls::ServerTLSOptions presenting(const std::string& name) {
    return tls::ServerTLSOptions(TestCertificates::get().named(name));
  }
  Seen serverSeen, clientSeen;
};

TEST_P(TlsVerifyTest, AnUntrustedCertificateIsRefused) {
  connectOnce(presenting("untrusted"), clientOptions());
  expectRefused(tls::TLSErrorKind::untrustedCertificate, "unable to get local issuer certificate");
}

TEST_P(TlsVerifyTest, TheSystemStoreDoesNotTrustTheTestCa) {
  connectOnce(presenting("server"), tls::optionsForClientTLS("localhost"));
  expectRefused(tls::TLSErrorKind::untrustedCertificate, "certificate verify failed");
}

TEST_P(TlsVerifyTest, AWrongHostNameIsRefused) {
  connectOnce(presenting("server"), clientOptions("example.org"));
  expectRefused(tls::TLSErrorKind::hostnameMismatch, "hostname mismatch");
  EXPECT_NE(clientSeen.lost->getErrorMessage().find("example.org"), std::string::npos);
}

TEST_P(TlsVerifyTest, AWrongIpAddressIsRefused) {
  connectOnce(presenting("server"), clientOptions("127.0.0.2"));
  expectRefused(tls::TLSErrorKind::hostnameMismatch, "IP address mismatch");
}

TEST_P(TlsVerifyTest, TheRightIpAddressIsAccepted) {
  connectOnce(presenting("server"), clientOptions("127.0.0.1"));
  EXPECT_EQ(serverSeen.received, "secret");
}

TEST_P(TlsVerifyTest, AnExpiredCertificateIsRefused) {
  connectOnce(presenting("expired"), clientOptions());
  expectRefused(tls::TLSErrorKind::certificateExpired, "certificate has expired");
}

TEST_P(TlsVerifyTest, ANotYetValidCertificateIsRefused) {
  connectOnce(presenting("notyet"), clientOptions());
  expectRefused(tls::TLSErrorKind::certificateNotYetValid, "certificate is not yet valid");
}

tls::ServerTLSOptions requiringClientCertificates() {
  tls::ServerTLSSettings settings;
  settings.clientCertificateAuthority = TestCertificates::get().ca();
  return tls::ServerTLSOptions(TestCertificates::get().server(), settings);
}

TEST_P(TlsVerifyTest, MutualTlsAcceptsAClientCertificateFromTheCa) {
  connectOnce(requiringClientCertificates(), clientOptions("localhost", TestCertificates::get().client()));
  EXPECT_EQ(serverSeen.received, "secret");
  EXPECT_TRUE(serverSeen.handshake);
}

TEST_P(TlsVerifyTest, MutualTlsRefusesAClientWithoutACertificate) {
  connectOnce(requiringClientCertificates(), clientOptions());
  EXPECT_TRUE(serverSeen.received.empty());
  ASSERT_TRUE(serverSeen.lost);
  EXPECT_TRUE(tlsKind(*serverSeen.lost).has_value()) << serverSeen.lost->toString();
  EXPECT_EQ(tlsKind(*clientSeen.lost), tls::TLSErrorKind::peerRejectedCertificate) << clientSeen.lost->toString();
}

TEST_P(TlsVerifyTest, MutualTlsRefusesACertificateFromAnotherCa) {
  connectOnce(requiringClientCertificates(), clientOptions("localhost", TestCertificates::get().named("other-client")));
  EXPECT_TRUE(serverSeen.received.empty());
  ASSERT_TRUE(serverSeen.lost);
  EXPECT_EQ(tlsKind(*serverSeen.lost), tls::TLSErrorKind::untrustedCertificate) << serverSeen.lost->toString();
  EXPECT_EQ(tlsKind(*clientSeen.lost), tls::TLSErrorKind::peerRejectedCertificate) << clientSeen.lost->toString();
}

// STARTTLS: a line protocol that switches to TLS when told, on both sides.
class StartTlsServer : public torsion::protocols::LineReceiver {
 public:
  explicit StartTlsServer(Seen& seen) : seen_(seen) {}
  void lineReceived(std::string_view line) override {
    seen_.received.append(line).append("|");
    if (line == "STARTTLS") {
      sendLine("GO");  // queued in plain text before the handshake
      tls::startTLS(*this, tls::ServerTLSOptions(TestCertificates::get().server()));
    } else {
      sendLine(std::string("echo ") + std::string(line));
    }
  }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }

 private:
  Seen& seen_;
};

class StartTlsClient : public torsion::protocols::LineReceiver, public tls::IHandshakeListener {
 public:
  explicit StartTlsClient(Seen& seen) : seen_(seen) {}
  void connectionMade() override { sendLine("STARTTLS"); }
  void lineReceived(std::string_view line) override {
    seen_.received.append(line).append("|");
    if (line == "GO") {
      tls::startTLS(*this, clientOptions());
      sendLine("secret");  // queued until the handshake completes
    } else {
      transport().loseConnection();
    }
  }
  void handshakeCompleted() override {
    seen_.handshake = true;
    auto& tlsTransport = dynamic_cast<tls::TLSTransport&>(transport());
    seen_.made = !tlsTransport.protocolVersion().empty();
  }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }

 private:
  Seen& seen_;
};

TEST_P(TlsVerifyTest, StartTlsMidStream) {
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<StartTlsServer>(std::ref(serverSeen)));
  server.connect(torsion::ClientFactory::forProtocol<StartTlsClient>(std::ref(clientSeen)));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clientSeen.lost && serverSeen.lost; }, 10, "the STARTTLS exchange"));
  EXPECT_EQ(serverSeen.received, "STARTTLS|secret|");
  EXPECT_EQ(clientSeen.received, "GO|echo secret|");
  EXPECT_TRUE(clientSeen.handshake);
  EXPECT_TRUE(clientSeen.made) << "no TLS version after the handshake";
  EXPECT_TRUE(clientSeen.lost->check<torsion::ConnectionDone>()) << clientSeen.lost->toString();
}

// A protocol connected through an endpoint (clientFromString, connectProtocol) is the
// transport's own protocol once its Deferred fires, so it can start TLS like any other.
class EndpointTlsServer : public torsion::Protocol {
 public:
  void connectionMade() override { tls::startTLS(*this, tls::ServerTLSOptions(TestCertificates::get().server())); }
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

class EndpointTlsClient : public torsion::Protocol, public tls::IHandshakeListener {
 public:
  explicit EndpointTlsClient(Seen& seen) : seen_(seen) {}
  void handshakeCompleted() override { seen_.handshake = true; }
  void dataReceived(torsion::Bytes data) override { seen_.received.append(data); }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }

 private:
  Seen& seen_;
};

TEST_P(TlsVerifyTest, AProtocolConnectedThroughAnEndpointStartsTls) {
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<EndpointTlsServer>());
  std::string payload(64 * 1024, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  auto client = std::make_shared<EndpointTlsClient>(clientSeen);
  auto endpoint = torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(server.portNumber()));
  std::optional<torsion::Failure> connectFailure;
  torsion::connectProtocol(*endpoint, client)
      .addCallback([&](const std::shared_ptr<EndpointTlsClient>& connected) {
        tls::startTLS(*connected, clientOptions());
        connected->transport().write(payload);  // queued until the handshake completes
      })
      .addErrback([&](const torsion::Failure& failure) { connectFailure = failure; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return connectFailure || clientSeen.lost || clientSeen.received.size() >= payload.size(); }, 10,
      "the echo over TLS"));
  ASSERT_FALSE(connectFailure) << connectFailure->toString();
  EXPECT_TRUE(clientSeen.handshake);
  EXPECT_TRUE(clientSeen.received == payload) << "received " << clientSeen.received.size() << " bytes, not the payload";
  ASSERT_NE(dynamic_cast<tls::TLSTransport*>(&client->transport()), nullptr);
  client->transport().loseConnection();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clientSeen.lost.has_value(); }, 10, "the client's connectionLost"));
  EXPECT_TRUE(clientSeen.lost->check<torsion::ConnectionDone>()) << clientSeen.lost->toString();
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TlsVerifyTest);

}  // namespace
