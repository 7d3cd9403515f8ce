// Where the kernel can (Linux 6.3 and later), the io_uring backend receives on connected
// stream sockets through its completion path, never through a recv system call. The
// proof is a real one: in a process of its own, a seccomp filter makes every receiving
// system call fail, and connections on an io_uring reactor still exchange messages, bulk
// input and input around a pause byte-exact. A transport that silently fell back to
// readiness would call recv and lose its connection with EPERM.
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <gtest/gtest.h>
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "conformance_names.hpp"
#include "seccomp_refusal.hpp"

namespace {

// The backend offers the completion path from Linux 6.3 on (its feature bits prove it).
bool kernelCompletesReceives() {
  utsname name{};
  if (::uname(&name) != 0) return false;
  int major = 0;
  int minor = 0;
  if (std::sscanf(name.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 3);
}

constexpr int kExchanges = 100;
constexpr std::size_t kMessageSize = 64;
constexpr std::size_t kBulkSize = 256 * 1024;

// In the child: no recvfrom (recv), recvmsg or recvmmsg from here on; then a client and
// an echo server on one io_uring reactor exchange 100 messages, then bulk input that the
// server reads paused and resumed half-way.
void exchangeWithoutReceiveSystemCalls() {
  torsion_test::refuseSystemCalls({__NR_recvfrom, __NR_recvmsg, __NR_recvmmsg}, EPERM);
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  const std::string message(kMessageSize, 'm');
  const std::string bulk = torsion_test::patternBytes(kBulkSize, 7);
  {
    torsion::Reactor reactor("io_uring");
    if (reactor.backendName() != "io_uring") torsion_test::failChild("the reactor runs on " + reactor.backendName());
    auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
      p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
    });
    auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    int echoed = 0;
    auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
      p.onMade = [&](ScriptedProtocol& self) { self.transport().write(message); };
      p.onData = [&](ScriptedProtocol& self, torsion::Bytes) {
        // One message in flight at a time: each echo is a receive of its own.
        if (self.received.size() == (static_cast<std::size_t>(echoed) + 1) * kMessageSize && ++echoed < kExchanges)
          self.transport().write(message);
      };
    });
    reactor.connectTCP("127.0.0.1", port->getHost().port, clientFactory);
    if (!runUntil(
            reactor, [&] { return echoed == kExchanges || (!clients.all.empty() && clients[0].lost()); }, 10,
            "the exchanges"))
      torsion_test::failChild("the exchanges did not finish: " + std::to_string(echoed) + " echoed");
    if (clients[0].lost()) torsion_test::failChild("the client lost its connection: " + clients[0].lostText());
    if (servers.size() != 1 || servers[0].lost()) torsion_test::failChild("the server lost its connection");

    // Bulk input, more than a pass reads, into a server that pauses half-way.
    ScriptedProtocol& server = servers[0];
    server.received.clear();
    server.onData = [](ScriptedProtocol& self, torsion::Bytes) {
      if (self.received.size() >= kBulkSize / 2) {
        self.onData = nullptr;
        self.transport().pauseProducing();
      }
    };
    clients[0].transport().write(bulk);
    if (!runUntil(
            reactor, [&] { return server.received.size() >= kBulkSize / 2 || server.lost(); }, 10, "the first half"))
      torsion_test::failChild("the first half did not arrive");
    torsion_test::runFor(reactor, 0.05);  // input that arrives meanwhile must wait
    server.transport().resumeProducing();
    if (!runUntil(
            reactor, [&] { return server.received.size() >= kBulkSize || server.lost(); }, 10, "the rest"))
      torsion_test::failChild("the rest did not arrive: " + std::to_string(server.received.size()) + " bytes");
    if (server.lost()) torsion_test::failChild("the server lost its connection: " + server.lostText());
    if (server.received != bulk) torsion_test::failChild("the bulk input arrived altered");
  }
  std::fprintf(stderr, "received by completion\n");
  std::exit(0);
}

TEST(IoUringReceive, ConnectedSocketsReceiveWithoutARecvSystemCall) {
  if (!torsion_test::listsBackend("io_uring")) GTEST_SKIP() << "io_uring is not usable on this machine";
  if (!kernelCompletesReceives()) GTEST_SKIP() << "this kernel is older than 6.3: the backend keeps polls";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exchangeWithoutReceiveSystemCalls(), testing::ExitedWithCode(0), "received by completion");
}

// In the child: no sendto (send), sendmsg or sendmmsg from here on; then a client and an
// echo server on one io_uring reactor exchange four messages written at once (the first
// goes into a send buffer, the rest wait in the queue behind it and then fill the next:
// 16,065 bytes, within a 16 KiB buffer), and the client ends with a loseConnection while
// its last send is in flight.
constexpr std::array<std::size_t, 4> kMessageSizes{1, 64, 1000, 15000};

void exchangeWithoutSendSystemCalls() {
  torsion_test::refuseSystemCalls({__NR_sendto, __NR_sendmsg, __NR_sendmmsg}, EPERM);
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  std::string expected;
  for (std::size_t size : kMessageSizes) expected += torsion_test::patternBytes(size, static_cast<std::uint32_t>(size));
  {
    torsion::Reactor reactor("io_uring");
    if (reactor.backendName() != "io_uring") torsion_test::failChild("the reactor runs on " + reactor.backendName());
    auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
      p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
    });
    auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    auto clientFactory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients, [&](ScriptedProtocol& p) {
      p.onMade = [&](ScriptedProtocol& self) {
        std::size_t at = 0;
        for (std::size_t size : kMessageSizes) {
          self.transport().write(torsion::Bytes(expected).substr(at, size));
          at += size;
        }
        if (self.transport().writeBufferSize() != expected.size())
          torsion_test::failChild("writeBufferSize does not count the send in flight");
      };
    });
    reactor.connectTCP("127.0.0.1", port->getHost().port, clientFactory);
    if (!runUntil(
            reactor,
            [&] {
              return !clients.all.empty() && (clients[0].lost() || clients[0].received.size() >= expected.size());
            },
            10, "the echoes"))
      torsion_test::failChild("the echoes did not arrive: " + std::to_string(clients[0].received.size()) + " bytes");
    if (clients[0].lost()) torsion_test::failChild("the client lost its connection: " + clients[0].lostText());
    if (clients[0].received != expected) torsion_test::failChild("the echoes arrived altered");
    if (clients[0].transport().writeBufferSize() != 0) torsion_test::failChild("output is left after the echoes");
    // A last message, and the end right behind it: the peer gets both, in that order.
    clients[0].transport().write("last");
    clients[0].transport().loseConnection();
    if (!runUntil(
            reactor, [&] { return servers.size() == 1 && servers[0].lost(); }, 10, "the server to see the end"))
      torsion_test::failChild("the server did not see the end");
    if (!servers[0].lostWith<torsion::ConnectionDone>()) torsion_test::failChild("the end was not clean");
    if (servers[0].received != expected + "last") torsion_test::failChild("the server received altered bytes");
  }
  std::fprintf(stderr, "sent by completion\n");
  std::exit(0);
}

TEST(IoUringSend, MessagesThatFitASendBufferGoWithoutASendSystemCall) {
  if (!torsion_test::listsBackend("io_uring")) GTEST_SKIP() << "io_uring is not usable on this machine";
  if (!kernelCompletesReceives()) GTEST_SKIP() << "this kernel is older than 6.3: the backend keeps polls";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exchangeWithoutSendSystemCalls(), testing::ExitedWithCode(0), "sent by completion");
}

}  // namespace
