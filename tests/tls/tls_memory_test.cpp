// TLS over testing::StringTransport (no sockets): the wrapper works over any transport,
// flow control passes through it, and the handshake timeout runs on the transport's clock.
#include <torsion/protocol_wrapper.hpp>
#include <torsion/testing.hpp>
#include <torsion/tls.hpp>

#include <functional>
#include <string>

#include "tls_names.hpp"

namespace {

// Moves bytes both ways between two StringTransports until neither side has more to say.
void pumpBoth(StringTransport& clientSide, StringTransport& serverSide) {
  for (int rounds = 0; rounds < 100; ++rounds) {
    std::string toServer = clientSide.value();
    std::string toClient = serverSide.value();
    if (toServer.empty() && toClient.empty()) return;
    clientSide.clear();
    serverSide.clear();
    if (!toServer.empty()) serverSide.receive(toServer);
    if (!toClient.empty()) clientSide.receive(toClient);
  }
}

// A Recorder that pauses reading after its first delivery.
class PausingRecorder : public Recorder {
 public:
  using Recorder::Recorder;
  void dataReceived(torsion::Bytes data) override {
    Recorder::dataReceived(data);
    if (deliveries++ == 0) transport().pauseProducing();
  }
  int deliveries = 0;
};

// A client and a server TLS protocol over two StringTransports, pumped by hand.
struct MemoryPair {
  /// `makeClient` makes the user's client protocol recording into clientSeen (a Recorder
  /// if none).
  explicit MemoryPair(const std::function<std::shared_ptr<torsion::Protocol>(Seen&)>& makeClient = {}) {
    auto serverFactory = std::make_shared<tls::TLSMemoryBIOFactory>(
        serverOptions(), torsion::Factory::forProtocol<Recorder>(std::ref(serverSeen), true));
    serverTls = serverFactory->buildProtocol(serverSide->getPeer());
    clientProtocol = makeClient ? makeClient(clientSeen) : std::make_shared<Recorder>(clientSeen);
    clientTls = tls::wrapClientProtocol(clientOptions(), clientProtocol);
    serverSide->makeConnection(*serverTls);
    clientSide->makeConnection(*clientTls);
  }
  // Ends both connections (a no-op if a test already did), which breaks the cycle between
  // each TLS protocol and the protocol it wraps.
  ~MemoryPair() {
    serverSide->reportConnectionLost();
    clientSide->reportConnectionLost();
  }
  MemoryPair(const MemoryPair&) = delete;
  MemoryPair& operator=(const MemoryPair&) = delete;
  // Moves bytes both ways until neither side has more to say.
  void pump() { pumpBoth(*clientSide, *serverSide); }
  Seen serverSeen, clientSeen;
  std::shared_ptr<StringTransport> serverSide = std::make_shared<StringTransport>();
  std::shared_ptr<StringTransport> clientSide = std::make_shared<StringTransport>();
  std::shared_ptr<torsion::Protocol> serverTls, clientTls, clientProtocol;
};

// Ciphertext of several records arrives in one delivery, more than OpenSSL reads at once,
// and the user pauses after the first record: the rest outlives the delivery's buffer
// (the wrapper's BIO reads delivered bytes in place and must keep what is left), and
// resuming delivers it all, in order. Then records split at every seventh byte.
TEST(TlsMemoryTest, CiphertextLeftUnreadByAPauseIsKeptAndDeliveredInOrder) {
  MemoryPair pair([](Seen& seen) { return std::make_shared<PausingRecorder>(seen); });
  pair.pump();
  ASSERT_TRUE(pair.clientSeen.handshake);
  std::string expected;
  for (int i = 0; i < 4; ++i) expected += std::string(16 * 1024, static_cast<char>('a' + i));
  pair.clientProtocol->transport().write(expected);
  pair.serverSide->receive(pair.clientSide->value());
  pair.clientSide->clear();
  ASSERT_EQ(pair.serverSeen.received, expected);
  {
    std::string echoed = pair.serverSide->value();  // four records, in one delivery
    pair.serverSide->clear();
    pair.clientSide->receive(echoed);
    echoed.assign(echoed.size(), 'x');  // the delivery's buffer is overwritten, then freed
  }
  EXPECT_EQ(pair.clientSeen.received, expected.substr(0, 16 * 1024)) << "only the first record before the pause";
  pair.clientProtocol->transport().resumeProducing();
  EXPECT_EQ(pair.clientSeen.received, expected);

  pair.clientProtocol->transport().write("split at every seventh byte");
  pair.serverSide->receive(pair.clientSide->value());
  pair.clientSide->clear();
  const std::string echoed = pair.serverSide->value();
  for (std::size_t i = 0; i < echoed.size(); i += 7) pair.clientSide->receive(std::string(echoed.substr(i, 7)));
  EXPECT_EQ(pair.clientSeen.received, expected + "split at every seventh byte");
  EXPECT_FALSE(pair.clientSeen.lost.has_value()) << pair.clientSeen.lost->toString();
}

TEST(TlsMemoryTest, HandshakeAndDataOverStringTransports) {
  MemoryPair pair;
  pair.clientProtocol->transport().write("queued before the handshake");
  EXPECT_EQ(pair.clientSide->value().find("queued"), std::string::npos) << "plain text on the wire";
  pair.pump();
  EXPECT_TRUE(pair.clientSeen.handshake);
  EXPECT_TRUE(pair.serverSeen.handshake);
  EXPECT_EQ(pair.serverSeen.received, "queued before the handshake");
  EXPECT_EQ(pair.clientSeen.received, "queued before the handshake");  // echoed
  pair.clientProtocol->transport().loseConnection();
  pair.pump();
  EXPECT_TRUE(pair.clientSide->disconnecting());
  EXPECT_TRUE(pair.serverSide->disconnecting()) << "the server did not answer close_notify";
  pair.serverSide->reportConnectionLost();
  pair.clientSide->reportConnectionLost();
  ASSERT_TRUE(pair.serverSeen.lost && pair.clientSeen.lost);
  EXPECT_TRUE(pair.serverSeen.lost->check<torsion::ConnectionDone>()) << pair.serverSeen.lost->toString();
  EXPECT_TRUE(pair.clientSeen.lost->check<torsion::ConnectionDone>()) << pair.clientSeen.lost->toString();
}

TEST(TlsMemoryTest, AbortClosesAtOnce) {
  MemoryPair pair;
  pair.pump();
  pair.clientProtocol->transport().write("dropped");
  pair.clientProtocol->transport().abortConnection();
  EXPECT_TRUE(pair.clientSide->aborted());
  pair.clientSide->reportConnectionLost();
  ASSERT_TRUE(pair.clientSeen.lost);
  EXPECT_TRUE(pair.clientSeen.lost->check<torsion::ConnectionAborted>()) << pair.clientSeen.lost->toString();
}

// A streaming producer writing through TLS is paused by the real transport's queue.
class Flood : public torsion::IPushProducer {
 public:
  explicit Flood(torsion::Transport& transport) : transport_(transport) {}
  void resumeProducing() override { paused = false; }
  void pauseProducing() override { paused = true; }
  void stopProducing() override { stopped = true; }
  // Writes 4 KiB chunks until paused (or a bound is reached).
  int run() {
    int chunks = 0;
    while (!paused && chunks < 1000) {
      transport_.write(std::string(4096, 'x'));
      ++chunks;
    }
    return chunks;
  }
  bool paused = false;
  bool stopped = false;

 private:
  torsion::Transport& transport_;
};

TEST(TlsMemoryTest, AStreamingProducerIsPausedByBackPressureUnderTls) {
  MemoryPair pair;
  pair.pump();
  pair.clientSide->setWritesBlocked(true);
  auto flood = std::make_shared<Flood>(pair.clientProtocol->transport());
  pair.clientProtocol->transport().registerProducer(flood, true);
  const int chunks = flood->run();
  EXPECT_TRUE(flood->paused);
  EXPECT_LT(chunks, 30) << "the producer was not paused near the 64 KiB high water mark";
  EXPECT_GE(pair.clientProtocol->transport().writeBufferSize(), 64u * 1024);
  pair.clientSide->setWritesBlocked(false);  // drains: the producer is resumed
  EXPECT_FALSE(flood->paused);
}

TEST(TlsMemoryTest, TheHandshakeTimeoutRunsOnTheTransportsClock) {
  torsion::testing::Clock clock;
  Seen seen;
  auto protocol = std::make_shared<Recorder>(seen);
  tls::ClientTLSSettings settings;
  settings.handshakeTimeout = 5;
  auto wrapped = tls::wrapClientProtocol(clientOptions("localhost", {}, settings), protocol);
  auto transport = std::make_shared<StringTransport>();
  transport->setClock(&clock);
  transport->makeConnection(*wrapped);
  EXPECT_FALSE(transport->value().empty()) << "no ClientHello";
  clock.advance(4.9);
  EXPECT_FALSE(transport->aborted());
  clock.advance(0.2);
  EXPECT_TRUE(transport->aborted());
  transport->reportConnectionLost();
  ASSERT_TRUE(seen.lost);
  EXPECT_EQ(tlsKind(*seen.lost), tls::TLSErrorKind::handshakeTimeout) << seen.lost->toString();
}

TEST(TlsMemoryTest, GarbageAfterTheHandshakeIsAProtocolError) {
  MemoryPair pair;
  pair.pump();
  pair.serverSide->receive(std::string("\x17\x03\x03\x00\x10garbagegarbage!!", 21));
  EXPECT_TRUE(pair.serverSide->disconnecting());
  pair.serverSide->reportConnectionLost();
  ASSERT_TRUE(pair.serverSeen.lost);
  EXPECT_EQ(tlsKind(*pair.serverSeen.lost), tls::TLSErrorKind::protocolError) << pair.serverSeen.lost->toString();
}

TEST(TlsMemoryTest, SteadyStateEchoLeavesNothingQueued) {
  // After each message has gone out, nothing stays queued in the wrapper or under it.
  MemoryPair pair;
  pair.pump();
  for (int i = 0; i < 100; ++i) {
    pair.clientProtocol->transport().write(std::string(1024, 'm'));
    pair.pump();
  }
  EXPECT_EQ(pair.serverSeen.received.size(), 100u * 1024);
  EXPECT_EQ(pair.clientProtocol->transport().writeBufferSize(), 0u);
}

TEST(TlsMemoryTest, StartTlsOverStringTransports) {
  // Both sides start in plain text; what they wrote before startTLS goes first, in clear.
  Seen serverSeen, clientSeen;
  Recorder server(serverSeen), client(clientSeen);
  auto serverSide = std::make_shared<StringTransport>();
  auto clientSide = std::make_shared<StringTransport>();
  serverSide->makeConnection(server);
  clientSide->makeConnection(client);
  client.transport().write("STARTTLS\n");
  serverSide->receive(clientSide->value());
  clientSide->clear();
  server.transport().write("GO\n");
  tls::startTLS(server, serverOptions());
  EXPECT_EQ(serverSide->value(), "GO\n") << "the plain reply must go first, and the server waits for a hello";
  clientSide->receive(serverSide->value());
  serverSide->clear();
  tls::TLSTransport& tlsTransport = tls::startTLS(client, clientOptions());
  EXPECT_EQ(&client.transport(), &tlsTransport);
  client.transport().write("secret");
  EXPECT_EQ(clientSide->value().find("secret"), std::string::npos);
  pumpBoth(*clientSide, *serverSide);
  EXPECT_TRUE(clientSeen.handshake);
  EXPECT_EQ(serverSeen.received, "STARTTLS\nsecret");
  EXPECT_EQ(clientSeen.received, "GO\n");
  serverSide->reportConnectionLost();
  clientSide->reportConnectionLost();
  ASSERT_TRUE(serverSeen.lost && clientSeen.lost);
}

TEST(TlsMemoryTest, StartTlsOverAPolicyWrappedConnection) {
  // The server's protocol sits behind a WrappingFactory (as under a policy); startTLS puts
  // TLS between the policy's wrapper and the protocol, and the policy still counts it.
  Seen serverSeen, clientSeen;
  auto wrapping =
      std::make_shared<torsion::WrappingFactory>(torsion::Factory::forProtocol<Recorder>(std::ref(serverSeen)));
  auto serverSide = std::make_shared<StringTransport>();
  auto clientSide = std::make_shared<StringTransport>();
  std::shared_ptr<torsion::Protocol> policy = wrapping->buildProtocol(serverSide->getPeer());
  serverSide->makeConnection(*policy);
  torsion::Protocol& server = *static_cast<torsion::ProtocolWrapper&>(*policy).wrappedProtocolPtr();
  Recorder client(clientSeen);
  clientSide->makeConnection(client);
  tls::startTLS(server, serverOptions());
  tls::startTLS(client, clientOptions());
  client.transport().write("secret");
  pumpBoth(*clientSide, *serverSide);
  EXPECT_TRUE(serverSeen.handshake);
  EXPECT_EQ(serverSeen.received, "secret");
  EXPECT_EQ(wrapping->connectionCount(), 1u);
  serverSide->reportConnectionLost();
  clientSide->reportConnectionLost();
  EXPECT_TRUE(serverSeen.lost && clientSeen.lost);
  EXPECT_EQ(wrapping->connectionCount(), 0u);
}

}  // namespace
