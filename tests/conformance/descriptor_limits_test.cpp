// Conformance: descriptors the backend cannot watch. select refuses descriptors at or
// above FD_SETSIZE with BackendLimitError (for user Selectables, outgoing and incoming
// connections); the other backends watch them. Every backend runs every case.
#include <fcntl.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"
#include "descriptor_table.hpp"

namespace {

class DescriptorLimits : public BackendTest {};

class HighReader : public torsion::Selectable {
 public:
  explicit HighReader(int fd) : fd_(fd) {}
  int fileno() const override { return fd_; }
  void doRead() override {
    char buffer[16];
    while (::recv(fd_, buffer, sizeof buffer, 0) > 0) ++reads;
  }
  int reads = 0;

 private:
  int fd_;
};

TEST_P(DescriptorLimits, ASelectableAtDescriptor1100IsRefusedBySelectOnlyAndClearly) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  Fd low(pair[0]);
  Fd peer(pair[1]);
  Fd high(::fcntl(low.get(), F_DUPFD_CLOEXEC, 1100));
  ASSERT_GE(high.get(), 1100);
  HighReader reader(high.get());
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  if (isSelect()) {
    try {
      reactor.addReader(reader);
      FAIL() << "select accepted descriptor " << high.get();
    } catch (const torsion::BackendLimitError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(std::to_string(high.get())), std::string::npos) << message;
      EXPECT_NE(message.find("FD_SETSIZE"), std::string::npos) << message;
    }
    EXPECT_THROW(reactor.addWriter(reader), torsion::BackendLimitError);
    reactor.removeAll(reader);  // never added: harmless
    bool later = false;
    reactor.callLater(0, [&] { later = true; });
    ASSERT_TRUE(runUntil(
        reactor, [&] { return later; }, 5, "the loop after the refusal"));
    return;
  }
  reactor.addReader(reader);
  torsion_test::sendAll(peer.get(), "hi");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return reader.reads > 0; }, 5, "the read on descriptor 1100"));
  reactor.removeAll(reader);
}

TEST_P(DescriptorLimits, ConnectTcpWithEveryNumberBelowFdSetsizeTaken) {
  std::uint16_t port = 0;
  Fd listener = torsion_test::listenLoopback(port, 16);
  Built<ScriptedProtocol> clients;
  torsion_test::TableFiller filler;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  filler.fillBelow(FD_SETSIZE);  // the connection's socket will be numbered FD_SETSIZE or more
  reactor.connectTCP("127.0.0.1", port, factory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished() || (clients.size() == 1 && clients[0].made()); }, 5,
      "the outcome of the attempt"));
  if (isSelect()) {
    ASSERT_EQ(factory->failedCount, 1);
    EXPECT_TRUE(factory->failedWith<torsion::BackendLimitError>()) << factory->failText();
    EXPECT_NE(factory->failReason->getErrorMessage().find("FD_SETSIZE"), std::string::npos);
    EXPECT_EQ(clients.size(), 0u);
  } else {
    EXPECT_EQ(factory->failedCount, 0) << factory->failText();
    EXPECT_GE(clients[0].transport().getHost().port, 1);
  }
}

TEST_P(DescriptorLimits, AnAcceptedDescriptorAboveFdSetsizeIsRefusedAndTheServerGoesOn) {
  torsion_test::LogCapture log;
  Built<ScriptedProtocol> servers;
  torsion_test::TableFiller filler;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer loopback(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
        p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
      }));
  filler.fillBelow(FD_SETSIZE);
  Fd first = loopback.connectRaw();
  torsion_test::sendAll(first.get(), "first");
  std::string got;
  if (isSelect()) {
    bool open = true;
    ASSERT_TRUE(runUntil(
        reactor, [&] { return !(open = open && torsion_test::drain(first.get(), got)); }, 5,
        "the refused connection to be closed"));
    EXPECT_TRUE(got.empty());
    EXPECT_TRUE(log.contains("FD_SETSIZE")) << log.all();
    for (auto& server : servers.all) EXPECT_FALSE(server->made()) << "no protocol may start on a refused descriptor";
    filler.free();
    Fd second = loopback.connectRaw();
    torsion_test::sendAll(second.get(), "second");
    std::string echoed;
    ASSERT_TRUE(runUntil(
        reactor, [&] { return torsion_test::drain(second.get(), echoed) && echoed == "second"; }, 5,
        "service once descriptors are free"));
  } else {
    ASSERT_TRUE(runUntil(
        reactor, [&] { return torsion_test::drain(first.get(), got) && got == "first"; }, 5,
        "the echo on a high descriptor"));
    EXPECT_GE(servers[0].transport().getHost().port, 1);
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(DescriptorLimits);
