// Endpoints: string descriptions, listen/connect Deferreds, connectProtocol, errors.
#include <gtest/gtest.h>
#include <unistd.h>
#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/reactor.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

class Greeter : public torsion::Protocol {
 public:
  void connectionMade() override {
    madeBeforeFired = true;
    transport().write("ping");
  }
  void dataReceived(torsion::Bytes data) override { received.append(data); }
  bool madeBeforeFired = false;
  std::string received;
};

struct Outcome {
  std::shared_ptr<torsion::Protocol> protocol;
  std::string failureType;
  std::string failureMessage;
  bool done = false;
};

void record(torsion::Deferred<std::shared_ptr<torsion::Protocol>> d, Outcome& outcome) {
  d.addCallback([&outcome](const std::shared_ptr<torsion::Protocol>& p) {
     outcome.protocol = p;
     outcome.done = true;
     return p;
   }).addErrback([&outcome](const torsion::Failure& f) {
    outcome.failureType = f.typeName();
    outcome.failureMessage = f.getErrorMessage();
    outcome.done = true;
    return std::shared_ptr<torsion::Protocol>();
  });
}

std::uint16_t listenEcho(torsion::Reactor& reactor, const std::string& description) {
  std::shared_ptr<torsion::ListeningPort> port;
  torsion::serverFromString(reactor, description)
      ->listen(torsion::Factory::forProtocol<torsion::protocols::Echo>())
      .addCallback([&](const std::shared_ptr<torsion::ListeningPort>& p) { port = p; });
  return port ? port->getHost().port : 0;
}

class EndpointsTest : public torsion_test::BackendTest {
 protected:
  torsion_test::TestReactor owner_{GetParam()};
  torsion::Reactor& reactor = *owner_;
};

TEST_P(EndpointsTest, TcpStringsListenAndConnect) {
  std::uint16_t port = listenEcho(reactor, "tcp:0:interface=127.0.0.1");
  ASSERT_NE(port, 0);
  Outcome outcome;
  auto endpoint = torsion::clientFromString(reactor, "tcp:host=127.0.0.1:port=" + std::to_string(port) + ":timeout=5");
  record(endpoint->connect(torsion::Factory::forProtocol<Greeter>()), outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  auto greeter = std::dynamic_pointer_cast<Greeter>(outcome.protocol);
  ASSERT_TRUE(greeter) << outcome.failureType << ": " << outcome.failureMessage;
  EXPECT_TRUE(greeter->madeBeforeFired);  // the Deferred fires after connectionMade
  ASSERT_TRUE(runUntil(reactor, [&] { return greeter->received == "ping"; }));
}

TEST_P(EndpointsTest, PositionalClientFormResolvesAHostName) {
  std::uint16_t port = listenEcho(reactor, "tcp:port=0:interface=127.0.0.1");
  Outcome outcome;
  record(torsion::clientFromString(reactor, "tcp:localhost:" + std::to_string(port))
             ->connect(torsion::Factory::forProtocol<Greeter>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  // localhost may resolve to ::1 first where nothing listens; either way the outcome is
  // a connected protocol or a clear connection error, never a hang.
  if (!outcome.protocol) {
    EXPECT_NE(outcome.failureType.find("Connection"), std::string::npos) << outcome.failureType;
  }
}

TEST_P(EndpointsTest, EscapedIpv6Interface) {
  std::uint16_t port = 0;
  try {
    port = listenEcho(reactor, "tcp:0:interface=\\:\\:1");
  } catch (const std::exception& error) {
    FAIL() << error.what();
  }
  if (port == 0) GTEST_SKIP() << "no IPv6 loopback here";
  Outcome outcome;
  record(torsion::clientFromString(reactor, "tcp:host=\\:\\:1:port=" + std::to_string(port))
             ->connect(torsion::Factory::forProtocol<Greeter>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  EXPECT_TRUE(outcome.protocol) << outcome.failureMessage;
}

TEST_P(EndpointsTest, UnixStrings) {
  std::string path = "/tmp/torsion-endpoint-" + GetParam() + "-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  ASSERT_EQ(listenEcho(reactor, "unix:" + path + ":backlog=5"), 0);  // unix ports have no number
  Outcome outcome;
  record(torsion::clientFromString(reactor, "unix:path=" + path + ":timeout=2")
             ->connect(torsion::Factory::forProtocol<Greeter>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  auto greeter = std::dynamic_pointer_cast<Greeter>(outcome.protocol);
  ASSERT_TRUE(greeter) << outcome.failureMessage;
  ASSERT_TRUE(runUntil(reactor, [&] { return greeter->received == "ping"; }));
  ::unlink(path.c_str());
}

TEST_P(EndpointsTest, RefusedConnectionFailsTheDeferred) {
  std::uint16_t closedPort = 0;
  {
    auto fresh = torsion_test::makeReactor(GetParam());
    closedPort = listenEcho(*fresh, "tcp:0:interface=127.0.0.1");
  }  // the fresh reactor's port closes with it: nothing listens there now
  Outcome outcome;
  record(torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(closedPort))
             ->connect(torsion::Factory::forProtocol<Greeter>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  EXPECT_EQ(outcome.failureType, "torsion::ConnectionRefusedError");
}

TEST_P(EndpointsTest, CancellingWhileConnectingStopsTheAttempt) {
  std::uint16_t port = listenEcho(reactor, "tcp:0:interface=127.0.0.1");
  Outcome outcome;
  auto d = torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(port))
               ->connect(torsion::Factory::forProtocol<Greeter>());
  record(d, outcome);
  d.cancel();
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  EXPECT_EQ(outcome.failureType, "torsion::ConnectingCancelledError");
}

TEST_P(EndpointsTest, ConnectProtocolFiresWithTheGivenProtocol) {
  std::uint16_t port = listenEcho(reactor, "tcp:0:interface=127.0.0.1");
  auto mine = std::make_shared<Greeter>();
  std::shared_ptr<Greeter> fired;
  auto endpoint = torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(port));
  torsion::connectProtocol(*endpoint, mine).addCallback([&](const std::shared_ptr<Greeter>& p) { fired = p; });
  ASSERT_TRUE(runUntil(reactor, [&] { return fired != nullptr; }));
  EXPECT_EQ(fired, mine);
  ASSERT_TRUE(runUntil(reactor, [&] { return mine->received == "ping"; }));
}

TEST_P(EndpointsTest, ListenFailureFailsTheDeferred) {
  std::uint16_t port = listenEcho(reactor, "tcp:0:interface=127.0.0.1");
  std::string failure;
  torsion::serverFromString(reactor, "tcp:" + std::to_string(port) + ":interface=127.0.0.1")
      ->listen(torsion::Factory::forProtocol<torsion::protocols::Echo>())
      .addErrback([&](const torsion::Failure& f) {
        failure = f.getErrorMessage();
        return std::shared_ptr<torsion::ListeningPort>();
      });
  EXPECT_NE(failure.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << failure;
}

// The Deferred fires from inside connection set-up, through the endpoint's protocol,
// which hands the connection on: a half-closeable protocol stays half-closeable, the
// server's FIN reaches readConnectionLost, and the client may still write.
class HalfClosingServer : public torsion::Protocol {
 public:
  explicit HalfClosingServer(std::shared_ptr<std::string> received) : received_(std::move(received)) {}
  void connectionMade() override { transport().loseWriteConnection(); }
  void dataReceived(torsion::Bytes data) override { received_->append(data); }

 private:
  std::shared_ptr<std::string> received_;
};

class HalfCloseableClient : public torsion::HalfCloseableProtocol {
 public:
  void readConnectionLost() override {
    readLost = true;
    transport().write("after FIN");
    transport().loseConnection();
  }
  void connectionLost(const torsion::Failure& reason) override { lostReason = reason.typeName(); }
  bool readLost = false;
  std::string lostReason;
};

TEST_P(EndpointsTest, AHalfCloseableClientStaysHalfCloseable) {
  auto serverReceived = std::make_shared<std::string>();
  auto port = reactor.listenTCP(0, torsion::Factory::forProtocol<HalfClosingServer>(serverReceived), 50, "127.0.0.1");
  Outcome outcome;
  record(torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(port->getHost().port))
             ->connect(torsion::Factory::forProtocol<HalfCloseableClient>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  auto client = std::dynamic_pointer_cast<HalfCloseableClient>(outcome.protocol);
  ASSERT_TRUE(client) << outcome.failureMessage;
  ASSERT_TRUE(runUntil(reactor, [&] { return !client->lostReason.empty() && *serverReceived == "after FIN"; }));
  EXPECT_TRUE(client->readLost);
  EXPECT_EQ(*serverReceived, "after FIN");
  EXPECT_EQ(client->lostReason, "torsion::ConnectionDone");
}

class ThrowsOnConnect : public torsion::Protocol {
 public:
  void connectionMade() override { throw std::runtime_error("refusing to talk"); }
};

TEST_P(EndpointsTest, AConnectionMadeThatThrowsFailsTheDeferred) {
  std::uint16_t port = listenEcho(reactor, "tcp:0:interface=127.0.0.1");
  Outcome outcome;
  record(torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(port))
             ->connect(torsion::Factory::forProtocol<ThrowsOnConnect>()),
         outcome);
  ASSERT_TRUE(runUntil(reactor, [&] { return outcome.done; }));
  EXPECT_FALSE(outcome.protocol);
  EXPECT_FALSE(outcome.failureType.empty());
  EXPECT_NE(outcome.failureMessage.find("refusing to talk"), std::string::npos) << outcome.failureMessage;
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(EndpointsTest);

// A malformed description is a clear error that names the bad part.
struct BadDescription {
  const char* description;
  bool server;
  const char* mentions;
};

class MalformedEndpointTest : public testing::TestWithParam<BadDescription> {};

TEST_P(MalformedEndpointTest, NamesTheBadPart) {
  torsion::Reactor reactor;
  const BadDescription& bad = GetParam();
  try {
    if (bad.server) {
      torsion::serverFromString(reactor, bad.description);
    } else {
      torsion::clientFromString(reactor, bad.description);
    }
    FAIL() << "accepted '" << bad.description << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(bad.mentions), std::string::npos)
        << "'" << error.what() << "' does not mention '" << bad.mentions << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Descriptions, MalformedEndpointTest,
                         testing::Values(BadDescription{"", true, "empty"},
                                         BadDescription{"ssl:443", true, "unknown endpoint type 'ssl'"},
                                         BadDescription{"tcp", true, "missing port"},
                                         BadDescription{"tcp:http", true, "port='http'"},
                                         BadDescription{"tcp:70000", true, "0..65535"},
                                         BadDescription{"tcp:80:colour=blue", true, "unknown parameter 'colour'"},
                                         BadDescription{"tcp:80:port=81", true, "'port' given twice"},
                                         BadDescription{"tcp:80:backlog=many", true, "backlog='many'"},
                                         BadDescription{"tcp:host=localhost", false, "missing port"},
                                         BadDescription{"tcp:port=80", false, "missing host"},
                                         BadDescription{"tcp:localhost:80:timeout=-1", false, "timeout='-1'"},
                                         BadDescription{"tcp:a:1:extra", false, "unexpected argument 'extra'"},
                                         BadDescription{"unix:", false, "missing path"}));

}  // namespace
