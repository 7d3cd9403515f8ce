// UDP: datagrams both ways, connected mode and connectionRefused, IPv6, errors.
#include <gtest/gtest.h>
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>
#include <torsion/udp.hpp>

#include <string>
#include <vector>

#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

class Recorder : public torsion::DatagramProtocol {
 public:
  void startProtocol() override { started = true; }
  void stopProtocol() override { stopped = true; }
  void datagramReceived(torsion::Bytes data, const torsion::Address& from) override {
    received.emplace_back(data);
    senders.push_back(from);
    if (echo) transport().write(data, from);
  }
  void connectionRefused() override { ++refused; }

  bool echo = false;
  bool started = false;
  bool stopped = false;
  int refused = 0;
  std::vector<std::string> received;
  std::vector<torsion::Address> senders;
};

class UdpTest : public torsion_test::BackendTest {
 protected:
  torsion_test::TestReactor owner_{GetParam()};
  torsion::Reactor& reactor = *owner_;
};

TEST_P(UdpTest, DatagramsAreEchoedWithTheirBoundariesAndSender) {
  auto server = std::make_shared<Recorder>();
  server->echo = true;
  auto client = std::make_shared<Recorder>();
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  EXPECT_TRUE(server->started);
  ASSERT_NE(serverPort->getHost().port, 0);

  const std::vector<std::string> messages = {"one", std::string(1000, 'x'), "three"};
  for (const auto& message : messages) clientPort->write(message, serverPort->getHost());
  ASSERT_TRUE(runUntil(reactor, [&] { return client->received.size() == messages.size(); }));
  EXPECT_EQ(client->received, messages);  // each datagram whole: UDP keeps boundaries
  EXPECT_EQ(server->senders.front(), clientPort->getHost());
  EXPECT_EQ(client->senders.front(), serverPort->getHost());

  serverPort->stopListening();
  EXPECT_TRUE(server->stopped);
  EXPECT_FALSE(serverPort->listening());
  serverPort->stopListening();  // a second stop does nothing
}

TEST_P(UdpTest, ConnectedModeReportsARefusedPeer) {
  // Find a port nobody listens on: open one, note it, close it.
  auto probe = std::make_shared<Recorder>();
  auto probePort = reactor.listenUDP(0, probe, "127.0.0.1");
  torsion::Address closed = probePort->getHost();
  probePort->stopListening();

  auto client = std::make_shared<Recorder>();
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  clientPort->connect(closed);
  ASSERT_TRUE(runUntil(reactor, [&] {
    clientPort->write("anyone there?");
    torsion_test::step(reactor, 0.02);
    return client->refused > 0;
  }));
  EXPECT_THROW(clientPort->write("x", torsion::Address{torsion::Address::Family::ipv4, "127.0.0.1", 1}),
               std::logic_error);
}

TEST_P(UdpTest, WriteWithoutAddressNeedsConnectedMode) {
  auto client = std::make_shared<Recorder>();
  auto port = reactor.listenUDP(0, client, "127.0.0.1");
  EXPECT_THROW(port->write("x"), std::logic_error);
  EXPECT_THROW(port->write("x", torsion::Address{torsion::Address::Family::ipv4, "not-numeric", 9}),
               std::invalid_argument);
}

TEST_P(UdpTest, OversizedDatagramIsAClearError) {
  auto client = std::make_shared<Recorder>();
  auto port = reactor.listenUDP(0, client, "127.0.0.1");
  std::string huge(70000, 'x');
  EXPECT_THROW(port->write(huge, port->getHost()), torsion::MessageLengthError);
}

TEST_P(UdpTest, ADatagramLongerThanMaxPacketSizeIsReportedNeverCut) {
  torsion_test::LogCapture log;
  auto server = std::make_shared<Recorder>();
  auto client = std::make_shared<Recorder>();
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1", 100);
  auto clientPort = reactor.listenUDP(0, client, "127.0.0.1");
  clientPort->write(std::string(300, 'x'), serverPort->getHost());
  clientPort->write("fits", serverPort->getHost());
  ASSERT_TRUE(runUntil(reactor, [&] { return !server->received.empty(); }));
  EXPECT_EQ(server->received, std::vector<std::string>{"fits"}) << "the long datagram was delivered cut";
  EXPECT_TRUE(log.contains("longer than maxPacketSize (100 bytes)")) << log.all();
  EXPECT_TRUE(log.contains("300 bytes")) << log.all();
  EXPECT_FALSE(log.contains("torsion: ")) << "the log sink already names torsion:\n" << log.all();
}

TEST_P(UdpTest, PortInUseIsCannotListenError) {
  auto first = reactor.listenUDP(0, std::make_shared<Recorder>(), "127.0.0.1");
  try {
    reactor.listenUDP(first->getHost().port, std::make_shared<Recorder>(), "127.0.0.1");
    FAIL() << "expected CannotListenError";
  } catch (const torsion::CannotListenError& error) {
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(first->getHost().port)), std::string::npos)
        << error.what();
  }
}

TEST_P(UdpTest, Ipv6Loopback) {
  auto server = std::make_shared<Recorder>();
  server->echo = true;
  std::shared_ptr<torsion::DatagramTransport> serverPort;
  try {
    serverPort = reactor.listenUDP(0, server, "::1");
  } catch (const torsion::CannotListenError& error) {
    GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
  }
  auto client = std::make_shared<Recorder>();
  auto clientPort = reactor.listenUDP(0, client, "::1");
  clientPort->write("over six", serverPort->getHost());
  ASSERT_TRUE(runUntil(reactor, [&] { return !client->received.empty(); }));
  EXPECT_EQ(client->received.front(), "over six");
  EXPECT_EQ(client->senders.front().family, torsion::Address::Family::ipv6);
}

TEST_P(UdpTest, ExceptionInDatagramReceivedKeepsThePortServing) {
  struct Thrower : Recorder {
    void datagramReceived(torsion::Bytes data, const torsion::Address& from) override {
      Recorder::datagramReceived(data, from);
      if (received.size() == 1) throw std::runtime_error("first datagram handler fails");
    }
  };
  auto server = std::make_shared<Thrower>();
  auto serverPort = reactor.listenUDP(0, server, "127.0.0.1");
  auto clientPort = reactor.listenUDP(0, std::make_shared<Recorder>(), "127.0.0.1");
  clientPort->write("a", serverPort->getHost());
  clientPort->write("b", serverPort->getHost());
  ASSERT_TRUE(runUntil(reactor, [&] { return server->received.size() == 2; }));
  EXPECT_TRUE(serverPort->listening());
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(UdpTest);

}  // namespace
