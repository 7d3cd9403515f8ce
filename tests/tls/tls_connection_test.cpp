// TLS over real sockets on every backend: echo, many connections, clean and truncated
// closes, handshake timeout, plain text on a TLS port, resumption and ALPN.
#include <torsion/tls.hpp>

#include <random>
#include <string>
#include <vector>

#include "loopback_server.hpp"
#include "tls_names.hpp"

namespace {

class TlsConnectionTest : public torsion_test::BackendTest {};

std::uint16_t portOf(const std::shared_ptr<torsion::ListeningPort>& port) { return port->getHost().port; }

// Sends `payload` in random chunk sizes as the handshake completes (writes before it are
// queued: the first chunks are written in connectionMade).
class ChunkedSender : public torsion::Protocol {
 public:
  ChunkedSender(const std::string& payload, Seen& seen) : payload_(payload), seen_(seen) {}
  void connectionMade() override {
    std::mt19937 random(12345);
    std::uniform_int_distribution<std::size_t> size(1, 40000);
    for (std::size_t at = 0; at < payload_.size();) {
      const std::size_t n = std::min(size(random), payload_.size() - at);
      transport().write(torsion::Bytes(payload_).substr(at, n));
      at += n;
    }
  }
  void dataReceived(torsion::Bytes data) override {
    seen_.received.append(data);
    if (seen_.received.size() == payload_.size()) transport().loseConnection();
  }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }

 private:
  const std::string& payload_;
  Seen& seen_;
};

TEST_P(TlsConnectionTest, EchoesOneMebibyteByteExactInRandomChunks) {
  std::string payload(1 << 20, '\0');
  std::mt19937 random(7);
  for (auto& c : payload) c = static_cast<char>(random());
  Seen server, client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(server), true),
                             serverOptions(), 50, "127.0.0.1");
  tls::connectSSL(reactor, "127.0.0.1", portOf(port),
                  torsion::ClientFactory::forProtocol<ChunkedSender>(std::cref(payload), std::ref(client)),
                  clientOptions("127.0.0.1"));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.lost && server.lost; }, 20, "the echo"));
  EXPECT_TRUE(client.received == payload) << "echoed " << client.received.size() << " of " << payload.size();
  EXPECT_TRUE(client.lost->check<torsion::ConnectionDone>()) << client.lost->toString();
  EXPECT_TRUE(server.lost->check<torsion::ConnectionDone>()) << server.lost->toString();
  EXPECT_TRUE(server.handshake);
}

TEST_P(TlsConnectionTest, HundredConcurrentConnections) {
  constexpr int kCount = 100;
  std::vector<Seen> servers(kCount), clients(kCount);
  int built = 0;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto serverFactory = std::make_shared<torsion::Factory>();
  serverFactory->protocol = [&] { return std::make_shared<Recorder>(servers.at(built++), true); };
  auto port = tls::listenSSL(reactor, 0, serverFactory, serverOptions(), 200, "127.0.0.1");
  auto options = clientOptions();
  for (int i = 0; i < kCount; ++i) {
    tls::connectSSL(
        reactor, "127.0.0.1", portOf(port),
        torsion::ClientFactory::forProtocol<Recorder>(std::ref(clients[i]), false, "hello " + std::to_string(i)),
        options);
  }
  ASSERT_TRUE(runUntil(
      reactor,
      [&] {
        for (int i = 0; i < kCount; ++i)
          if (clients[i].received.size() < ("hello " + std::to_string(i)).size()) return false;
        return true;
      },
      30, "100 echoes"));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(clients[i].received, "hello " + std::to_string(i));
    EXPECT_TRUE(clients[i].handshake);
  }
}

// Keeps the TLS protocol a TLSMemoryBIOFactory built, to reach the real transport under it.
class KeepingFactory : public tls::TLSMemoryBIOFactory {
 public:
  using TLSMemoryBIOFactory::TLSMemoryBIOFactory;
  std::shared_ptr<torsion::Protocol> buildProtocol(const torsion::Address& address) override {
    auto made = TLSMemoryBIOFactory::buildProtocol(address);
    built = made;
    return made;
  }
  std::weak_ptr<torsion::Protocol> built;  // weak: the protocol's `factory` points back here
};

TEST_P(TlsConnectionTest, CloseNotifyIsConnectionDoneAndItsAbsenceATruncation) {
  Seen server, clean, truncated;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  // The clean case: the server's protocol calls loseConnection (close_notify).
  class Closer : public Recorder {
   public:
    using Recorder::Recorder;
    void handshakeCompleted() override {
      Recorder::handshakeCompleted();
      transport().write("bye");
      transport().loseConnection();
    }
  };
  auto closing = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Closer>(std::ref(server)), serverOptions(),
                                50, "127.0.0.1");
  tls::connectSSL(reactor, "127.0.0.1", portOf(closing), torsion::ClientFactory::forProtocol<Recorder>(std::ref(clean)),
                  clientOptions());
  // The truncated case: the server's real transport closes under TLS (a FIN, no close_notify).
  Seen bare;
  auto keeping =
      std::make_shared<KeepingFactory>(serverOptions(), torsion::Factory::forProtocol<Recorder>(std::ref(bare)));
  torsion_test::LoopbackServer cutting(reactor, keeping);
  class Trigger : public Recorder {
   public:
    using Recorder::Recorder;
    void handshakeCompleted() override {
      Recorder::handshakeCompleted();
      transport().write("cut");
    }
  };
  tls::connectSSL(reactor, "127.0.0.1", cutting.portNumber(),
                  torsion::ClientFactory::forProtocol<Trigger>(std::ref(truncated)), clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return bare.received == "cut"; }, 10, "the second connection"));
  keeping->built.lock()->transport().loseConnection();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clean.lost && truncated.lost; }, 10, "both ends"));
  EXPECT_EQ(clean.received, "bye");
  EXPECT_TRUE(clean.lost->check<torsion::ConnectionDone>()) << clean.lost->toString();
  ASSERT_FALSE(truncated.lost->check<torsion::ConnectionDone>()) << truncated.lost->toString();
  EXPECT_TRUE(truncated.lost->check<torsion::ConnectionLost>());
  EXPECT_NE(truncated.lost->getErrorMessage().find("close_notify"), std::string::npos)
      << truncated.lost->getErrorMessage();
}

// The client half-closes (loseWriteConnection: close_notify) on the first byte of a large
// answer. It must still read the whole answer, then the server's close_notify, and end
// with ConnectionDone; what it writes after the half-close is dropped, and a
// HalfCloseableProtocol hears writeConnectionLost. (Before, loseWriteConnection closed the
// whole connection and the rest of the answer was lost.)
class HalfCloser : public torsion::HalfCloseableProtocol {
 public:
  explicit HalfCloser(Seen& seen) : seen_(seen) {}
  void connectionMade() override { transport().write("request"); }
  void dataReceived(torsion::Bytes data) override {
    seen_.received.append(data);
    if (shut_) return;
    shut_ = true;
    transport().loseWriteConnection();
    transport().write("dropped");
    EXPECT_FALSE(transport().disconnecting());
  }
  void readConnectionLost() override {}
  void writeConnectionLost() override { writeLost = true; }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }
  bool writeLost = false;

 private:
  Seen& seen_;
  bool shut_ = false;
};

class BigAnswer : public Recorder {
 public:
  BigAnswer(Seen& seen, const std::string& answer) : Recorder(seen), answer_(answer) {}
  void dataReceived(torsion::Bytes data) override {
    Recorder::dataReceived(data);
    if (data.find("request") != torsion::Bytes::npos) transport().write(answer_);
  }

 private:
  const std::string& answer_;
};

TEST_P(TlsConnectionTest, LoseWriteConnectionSendsCloseNotifyAndKeepsReading) {
  const std::string answer(256 * 1024, 'a');
  Seen server, client;
  std::shared_ptr<HalfCloser> closer;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<BigAnswer>(std::ref(server), std::cref(answer)),
                             serverOptions(), 50, "127.0.0.1");
  auto factory = std::make_shared<torsion::ClientFactory>();
  factory->protocol = [&] { return closer = std::make_shared<HalfCloser>(client); };
  tls::connectSSL(reactor, "127.0.0.1", portOf(port), factory, clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.lost && server.lost; }, 10, "both ends"));
  EXPECT_EQ(client.received.size(), answer.size());
  EXPECT_TRUE(client.lost->check<torsion::ConnectionDone>()) << client.lost->toString();
  EXPECT_TRUE(server.lost->check<torsion::ConnectionDone>()) << server.lost->toString();
  EXPECT_EQ(server.received, "request");
  EXPECT_TRUE(closer->writeLost);
}

// Writes queued before the handshake go out before anything the handshake listener does,
// even when it closes at once (they were dropped when the listener ran first).
TEST_P(TlsConnectionTest, QueuedWritesPrecedeACloseInHandshakeCompleted) {
  class QueueThenClose : public Recorder {
   public:
    using Recorder::Recorder;
    void connectionMade() override { transport().write("queued"); }
    void handshakeCompleted() override {
      Recorder::handshakeCompleted();
      transport().loseConnection();
    }
  };
  Seen server, client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(server)), serverOptions(), 50,
                             "127.0.0.1");
  tls::connectSSL(reactor, "127.0.0.1", portOf(port),
                  torsion::ClientFactory::forProtocol<QueueThenClose>(std::ref(client)), clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.lost && server.lost; }, 10, "both ends"));
  EXPECT_EQ(server.received, "queued");
  EXPECT_TRUE(server.lost->check<torsion::ConnectionDone>()) << server.lost->toString();
  EXPECT_TRUE(client.lost->check<torsion::ConnectionDone>()) << client.lost->toString();
}

TEST_P(TlsConnectionTest, HandshakeTimesOutAgainstAPeerThatNeverAnswers) {
  Seen silent, client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<Recorder>(std::ref(silent)));
  tls::ClientTLSSettings settings;
  settings.handshakeTimeout = 0.3;
  tls::connectSSL(reactor, "127.0.0.1", server.portNumber(),
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(client)),
                  clientOptions("localhost", {}, settings));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.lost.has_value(); }, 10, "the timeout"));
  EXPECT_EQ(tlsKind(*client.lost), tls::TLSErrorKind::handshakeTimeout) << client.lost->toString();
  EXPECT_TRUE(client.made);
  EXPECT_FALSE(client.handshake);
}

TEST_P(TlsConnectionTest, PlainTextToATlsPortFailsThatConnectionOnly) {
  Seen plain, good, goodServer;
  int built = 0;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto serverFactory = std::make_shared<torsion::Factory>();
  serverFactory->protocol = [&] { return std::make_shared<Recorder>(built++ == 0 ? plain : goodServer, true); };
  auto port = tls::listenSSL(reactor, 0, serverFactory, serverOptions(), 50, "127.0.0.1");
  Seen raw;
  reactor.connectTCP("127.0.0.1", portOf(port),
                     torsion::ClientFactory::forProtocol<Recorder>(std::ref(raw), false, "GET / HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return plain.lost && raw.lost; }, 10, "the plain-text connection to fail"));
  EXPECT_EQ(tlsKind(*plain.lost), tls::TLSErrorKind::notTLS) << plain.lost->toString();
  EXPECT_TRUE(plain.received.empty());
  // What came back, if anything, is a TLS alert record (content type 21), never plain text.
  if (!raw.received.empty()) {
    EXPECT_EQ(raw.received[0], '\x15');
  }
  tls::connectSSL(reactor, "127.0.0.1", portOf(port),
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(good), false, "still here"), clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return good.received == "still here"; }, 10, "a good connection after"));
}

TEST_P(TlsConnectionTest, ASecondConnectionResumesTheSessionAndAlpnIsNegotiated) {
  Seen server;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  tls::ServerTLSSettings serverSettings;
  serverSettings.acceptableProtocols = {"h2", "http/1.1"};
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(server), true),
                             serverOptions(serverSettings), 50, "127.0.0.1");
  tls::ClientTLSSettings settings;
  settings.acceptableProtocols = {"http/1.1", "h2"};
  auto options = clientOptions("localhost", {}, settings);
  std::vector<std::string> alpn;
  std::vector<bool> reused;
  class Probe : public torsion::Protocol, public tls::IHandshakeListener {
   public:
    Probe(std::vector<std::string>& alpn, std::vector<bool>& reused) : alpn_(alpn), reused_(reused) {}
    void connectionMade() override { transport().write("x"); }
    void dataReceived(torsion::Bytes) override {
      auto& tlsTransport = dynamic_cast<tls::TLSTransport&>(transport());
      alpn_.push_back(tlsTransport.negotiatedProtocol());
      reused_.push_back(tlsTransport.sessionReused());
      transport().loseConnection();
    }
    void handshakeCompleted() override {}

   private:
    std::vector<std::string>& alpn_;
    std::vector<bool>& reused_;
  };
  for (std::size_t i = 1; i <= 2; ++i) {
    tls::connectSSL(reactor, "127.0.0.1", portOf(port),
                    torsion::ClientFactory::forProtocol<Probe>(std::ref(alpn), std::ref(reused)), options);
    ASSERT_TRUE(runUntil(
        reactor, [&] { return reused.size() == i; }, 10, "a connection"));
  }
  EXPECT_EQ(alpn, (std::vector<std::string>{"h2", "h2"}));
  EXPECT_EQ(reused, (std::vector<bool>{false, true}));
  // Without resumption every handshake is a full one.
  settings.resumeSessions = false;
  auto fresh = clientOptions("localhost", {}, settings);
  for (std::size_t i = 3; i <= 4; ++i) {
    tls::connectSSL(reactor, "127.0.0.1", portOf(port),
                    torsion::ClientFactory::forProtocol<Probe>(std::ref(alpn), std::ref(reused)), fresh);
    ASSERT_TRUE(runUntil(
        reactor, [&] { return reused.size() == i; }, 10, "a connection"));
  }
  EXPECT_EQ(reused, (std::vector<bool>{false, true, false, false}));
}

TEST_P(TlsConnectionTest, SslAndTlsEndpointStrings) {
  const auto& certificates = torsion_test::TestCertificates::get();
  Seen server, client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto escaped = [](std::string path) {  // a colon in a value is written "\:"
    std::string out;
    for (char c : path) out += c == ':' ? std::string("\\:") : std::string(1, c);
    return out;
  };
  auto serverEndpoint = tls::serverFromString(
      reactor, "ssl:0:interface=127.0.0.1:privateKey=" + escaped(certificates.path("server.key")) +
                   ":certKey=" + escaped(certificates.path("server.pem")));
  std::shared_ptr<torsion::ListeningPort> port;
  serverEndpoint->listen(torsion::Factory::forProtocol<Recorder>(std::ref(server), true))
      .addCallback([&](const std::shared_ptr<torsion::ListeningPort>& listening) { port = listening; });
  ASSERT_TRUE(port);
  auto clientEndpoint = tls::clientFromString(
      reactor, "tls:localhost:" + std::to_string(portOf(port)) + ":trustRoots=" + escaped(certificates.path("ca.pem")));
  std::shared_ptr<torsion::Protocol> connected;
  clientEndpoint->connect(torsion::Factory::forProtocol<Recorder>(std::ref(client), false, "via endpoints"))
      .addCallback([&](const std::shared_ptr<torsion::Protocol>& protocol) { connected = protocol; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.received == "via endpoints"; }, 10, "the echo"));
  ASSERT_TRUE(connected);
  EXPECT_NE(dynamic_cast<Recorder*>(connected.get()), nullptr) << "the Deferred fired with the TLS wrapper";
  EXPECT_TRUE(client.handshake);
  // Other types pass through; bad ones are named.
  EXPECT_NO_THROW(tls::serverFromString(reactor, "tcp:0:interface=127.0.0.1"));
  EXPECT_THROW(tls::serverFromString(reactor, "ssl:0"), std::invalid_argument);
  EXPECT_THROW(tls::clientFromString(reactor, "tls:localhost:443:nonsense=1"), std::invalid_argument);
  EXPECT_THROW(tls::serverFromString(reactor, "ssl:0:privateKey=/nonexistent.pem"), tls::TLSConfigurationError);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TlsConnectionTest);

}  // namespace
