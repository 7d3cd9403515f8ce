// Conformance: addresses and socket options (getHost/getPeer, port 0, ports in use, IPv6,
// bindAddress, TCP_NODELAY, SO_KEEPALIVE), on every backend.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

using Family = torsion::Address::Family;

class Addresses : public BackendTest {};

TEST_P(Addresses, GetHostGivesTheRealPortWhenZeroWasAsked) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer loopback(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  const torsion::Address host = loopback.port()->getHost();
  EXPECT_EQ(host.family, Family::ipv4);
  EXPECT_EQ(host.host, "127.0.0.1");
  ASSERT_NE(host.port, 0);
  EXPECT_EQ(host.toString(), "127.0.0.1:" + std::to_string(host.port));
  reactor.connectTCP("127.0.0.1", host.port, torsion_test::recordingClientFactory(clients), 5);
  ASSERT_TRUE(torsion_test::waitForConnection(reactor, servers, clients));
  auto& server = servers[0].transport();
  auto& client = clients[0].transport();
  EXPECT_EQ(server.getHost(), host);
  EXPECT_EQ(client.getPeer(), host);
  EXPECT_EQ(server.getPeer(), client.getHost());
  EXPECT_NE(client.getHost().port, 0);
}

TEST_P(Addresses, AllInterfacesAreListenedOnByDefault) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  EXPECT_EQ(port->getHost().host, "0.0.0.0");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
}

TEST_P(Addresses, APortInUseIsCannotListenErrorNamingTheAddressAndReason) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers);
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  const auto number = port->getHost().port;
  try {
    reactor.listenTCP(number, factory, 50, "127.0.0.1");
    FAIL() << "listening twice on one port succeeded";
  } catch (const torsion::CannotListenError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.interface(), "127.0.0.1");
    EXPECT_EQ(error.port(), number);
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(number)), std::string::npos) << message;
    EXPECT_NE(message.find("in use"), std::string::npos) << message;
  }
  EXPECT_EQ(factory->numPorts(), 1) << "a port that failed to listen does not count as a user";
  EXPECT_THROW(reactor.listenTCP(0, factory, 50, "not-an-address"), torsion::CannotListenError);
  EXPECT_THROW(reactor.listenTCP(0, nullptr), std::invalid_argument);
}

bool canBindIpv6Loopback() {
  Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return ::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

TEST_P(Addresses, Ipv6LoopbackWorksEndToEnd) {
  if (!canBindIpv6Loopback()) GTEST_SKIP() << "::1 cannot be bound on this machine";
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0,
                                torsion_test::recordingFactory<ScriptedProtocol>(servers,
                                                                                 [](ScriptedProtocol& p) {
                                                                                   p.onData = [](ScriptedProtocol& self,
                                                                                                 torsion::Bytes data) {
                                                                                     self.transport().write(data);
                                                                                   };
                                                                                 }),
                                50, "::1");
  const torsion::Address host = port->getHost();
  EXPECT_EQ(host.family, Family::ipv6);
  EXPECT_EQ(host.host, "::1");
  EXPECT_EQ(host.toString(), "[::1]:" + std::to_string(host.port));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [](ScriptedProtocol& p) {
    p.onMade = [](ScriptedProtocol& self) { self.transport().write("over IPv6"); };
  });
  auto connector = reactor.connectTCP("::1", host.port, factory, 5);
  EXPECT_EQ(connector->getDestination().family, Family::ipv6);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].received == "over IPv6"; }, 5, "the echo over IPv6"));
  EXPECT_EQ(clients[0].transport().getPeer(), host);
  EXPECT_EQ(servers[0].transport().getPeer().family, Family::ipv6);
}

TEST_P(Addresses, BindAddressChoosesTheLocalEnd) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  const std::uint16_t localPort = torsion_test::unusedPort();
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  server.connect(torsion_test::recordingClientFactory(clients), 5,
                 torsion::Address{Family::ipv4, "127.0.0.1", localPort});
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the connection"));
  EXPECT_EQ(servers[0].transport().getPeer().port, localPort);
}

// The peer's address as the factory and the transport see it, for peers whose octets
// have one, two and three digits (all of 127.0.0.0/8 is loopback on Linux). The accept
// path formats IPv4 text itself rather than with inet_ntop.
TEST_P(Addresses, ThePeerAddressOfAnAcceptedConnectionIsExact) {
  std::vector<std::string> sources = {"127.0.0.1", "127.10.200.3", "127.255.99.250"};
  // Records the address buildProtocol is given, then builds as recordingFactory does.
  class PeerRecordingFactory : public torsion::Factory {
   public:
    explicit PeerRecordingFactory(Built<ScriptedProtocol>& built) : built_(built) {}
    std::shared_ptr<torsion::Protocol> buildProtocol(const torsion::Address& peer) override {
      offered.push_back(peer);
      built_.all.push_back(std::make_shared<ScriptedProtocol>());
      return built_.all.back();
    }
    std::vector<torsion::Address> offered;

   private:
    Built<ScriptedProtocol>& built_;
  };
  Built<ScriptedProtocol> servers;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto factory = std::make_shared<PeerRecordingFactory>(servers);
  auto& offered = factory->offered;
  torsion_test::LoopbackServer server(reactor, factory);
  std::vector<Fd> clients;
  for (const auto& source : sources) {
    Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ASSERT_EQ(::inet_pton(AF_INET, source.c_str(), &local.sin_addr), 1);
    ASSERT_EQ(::bind(client.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0) << source;
    sockaddr_in remote = torsion_test::loopback4(server.portNumber());
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote), 0) << source;
    clients.push_back(std::move(client));
    ASSERT_TRUE(runUntil(
        reactor, [&] { return servers.size() == clients.size() && servers.back().made(); }, 5, "the connection"));
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(clients.back().get(), reinterpret_cast<sockaddr*>(&bound), &length);
    const torsion::Address expected{Family::ipv4, source, torsion_test::portOf(bound)};
    EXPECT_EQ(offered.back(), expected);
    EXPECT_EQ(servers.back().transport().getPeer(), expected);
  }
}

TEST_P(Addresses, TcpNoDelayAndKeepAliveRoundTrip) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  auto& transport = servers[0].transport();
  for (bool on : {true, false, true}) {
    transport.setTcpNoDelay(on);
    EXPECT_EQ(transport.getTcpNoDelay(), on);
    transport.setTcpKeepAlive(on);
    EXPECT_EQ(transport.getTcpKeepAlive(), on);
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Addresses);
