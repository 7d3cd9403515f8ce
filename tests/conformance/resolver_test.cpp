// Conformance: host names are resolved without blocking the loop, on every backend. This
// executable interposes getaddrinfo to see which thread resolves, to make resolution slow
// on purpose, and to answer test-only names without any DNS traffic.
#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conformance_names.hpp"

namespace {

struct ResolverSpy {
  std::mutex mutex;
  std::vector<std::thread::id> callers;
  std::atomic<int> delayMs{0};
};

ResolverSpy& spy() {
  static ResolverSpy instance;
  return instance;
}

using GetAddrInfo = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

GetAddrInfo realGetAddrInfo() {
  static const auto real = reinterpret_cast<GetAddrInfo>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  return real;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Every getaddrinfo in this process, the framework's included, comes here first.
extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  {
    std::lock_guard lock(spy().mutex);
    spy().callers.push_back(std::this_thread::get_id());
  }
  if (int delay = spy().delayMs.load()) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  const std::string name = node ? node : "";
  if (endsWith(name, ".invalid")) return EAI_NONAME;  // RFC 6761: never resolves
  if (name == "dual-stack.test") {
    // As /etc/hosts often has it for localhost: the IPv6 address first, then IPv4.
    addrinfo numericHints{};
    numericHints.ai_flags = AI_NUMERICHOST;
    numericHints.ai_socktype = SOCK_STREAM;
    addrinfo* v6 = nullptr;
    addrinfo* v4 = nullptr;
    if (realGetAddrInfo()("::1", service, &numericHints, &v6) != 0) return EAI_NONAME;
    if (realGetAddrInfo()("127.0.0.1", service, &numericHints, &v4) != 0) {
      ::freeaddrinfo(v6);
      return EAI_NONAME;
    }
    addrinfo* last = v6;
    while (last->ai_next) last = last->ai_next;
    last->ai_next = v4;
    *result = v6;
    return 0;
  }
  return realGetAddrInfo()(node, service, hints, result);
}

namespace {

class Resolver : public BackendTest {
 protected:
  void SetUp() override {
    std::lock_guard lock(spy().mutex);
    spy().callers.clear();
    spy().delayMs = 0;
  }
  void TearDown() override { spy().delayMs = 0; }
};

TEST_P(Resolver, LocalhostIsResolvedOffTheLoopWhichKeepsRunning) {
  spy().delayMs = 300;  // a slow resolver: the loop must not wait for it
  int ticks = 0;
  int ticksAtConnect = -1;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  std::function<void()> tick = [&] {
    ++ticks;
    reactor.callLater(0.01, tick);
  };
  reactor.callLater(0, tick);
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(
      clients, [&](ScriptedProtocol& p) { p.onMade = [&](ScriptedProtocol&) { ticksAtConnect = ticks; }; });
  const double before = torsion_test::now();
  auto connector = reactor.connectTCP("localhost", server.portNumber(), factory, 5);
  EXPECT_LT(torsion_test::now() - before, 0.1) << "connectTCP must return at once";
  EXPECT_EQ(connector->state(), torsion::Connector::State::connecting);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished() || (clients.size() == 1 && clients[0].made()); }, 5, "the connection"));
  ASSERT_EQ(factory->failedCount, 0) << factory->failText();
  EXPECT_GE(ticksAtConnect, 10) << "timers stopped while the name was being resolved";
  EXPECT_EQ(connector->getDestination().host, "localhost");
  EXPECT_EQ(clients[0].transport().getPeer().host, "127.0.0.1");
  std::lock_guard lock(spy().mutex);
  ASSERT_FALSE(spy().callers.empty()) << "getaddrinfo was never called";
  for (auto caller : spy().callers) EXPECT_NE(caller, std::this_thread::get_id()) << "resolved on the loop's thread";
}

TEST_P(Resolver, AnUnknownNameIsDnsLookupError) {
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  reactor.connectTCP("no-such-host.invalid", 80, factory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished(); }, 5, "the lookup failure"));
  ASSERT_EQ(factory->failedCount, 1);
  EXPECT_TRUE(factory->failedWith<torsion::DNSLookupError>()) << factory->failText();
  EXPECT_NE(factory->failReason->getErrorMessage().find("no-such-host.invalid"), std::string::npos);
  EXPECT_EQ(factory->stopped, 1);
}

TEST_P(Resolver, ANameWhoseFirstAddressIsIpv6StillReachesAnIpv4Listener) {
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  reactor.connectTCP("dual-stack.test", server.portNumber(), factory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished() || (clients.size() == 1 && clients[0].made()); }, 5, "the outcome"));
  EXPECT_EQ(factory->failedCount, 0) << factory->failText();
}

TEST_P(Resolver, StoppingWhileResolvingIgnoresTheLateAnswer) {
  spy().delayMs = 100;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  auto connector = reactor.connectTCP("localhost", server.portNumber(), factory, 5);
  torsion_test::runFor(reactor, 0.02);  // the lookup is under way on the pool
  connector->stopConnecting();
  EXPECT_TRUE(factory->failedWith<torsion::ConnectingCancelledError>());
  torsion_test::runFor(reactor, 0.3);
  EXPECT_EQ(clients.size(), 0u) << "a cancelled attempt connected when its lookup finished";
  EXPECT_EQ(servers.size(), 0u);
}

TEST_P(Resolver, ListenTcpResolvesAHostNameForItsInterface) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 50, "localhost");
  EXPECT_EQ(port->getHost().family, torsion::Address::Family::ipv4);
  EXPECT_EQ(port->getHost().host, "127.0.0.1");
  torsion_test::Fd client = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the accept"));
}

TEST_P(Resolver, ListenTcpPrefersTheIpv4AddressOfAName) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 50, "dual-stack.test");
  EXPECT_EQ(port->getHost().host, "127.0.0.1");
}

TEST_P(Resolver, ListenTcpOnANameThatDoesNotResolveIsCannotListenErrorNamingIt) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  try {
    reactor.listenTCP(0, factory, 50, "no-such-host.invalid");
    FAIL() << "listenTCP on a name that does not resolve succeeded";
  } catch (const torsion::CannotListenError& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-host.invalid"), std::string::npos) << error.what();
    EXPECT_EQ(error.interface(), "no-such-host.invalid");
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Resolver);
