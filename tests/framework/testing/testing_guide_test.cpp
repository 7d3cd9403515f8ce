// The examples of docs/testing.md. Each region between "// [guide:NAME]" and
// "// [guide:end]" is copied verbatim into the guide; the test docs.testing_guide_snippets
// fails if the two differ, so every example in the guide compiles and passes here.
#include <torsion/deferred_thread.hpp>
#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/reconnecting_client_factory.hpp>
#include <torsion/task.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

// [guide:string-transport]
// The protocol under test: answers each line in upper case.
class Shout : public torsion::protocols::LineReceiver {
 public:
  void lineReceived(torsion::Bytes line) override {
    std::string upper(line);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    sendLine(upper);
  }
};

TEST(TestingGuide, StringTransportPlaysThePeer) {
  auto transport = std::make_shared<torsion::testing::StringTransport>();
  auto protocol = std::make_shared<Shout>();
  transport->makeConnection(*protocol);  // connectionMade runs

  transport->receive("hel");  // TCP may split a line anywhere
  transport->receive("lo\r\n");
  EXPECT_EQ(transport->value(), "HELLO\r\n");

  protocol->transport().loseConnection();
  EXPECT_TRUE(transport->disconnecting());
  transport->reportConnectionLost();  // connectionLost(ConnectionDone), as the reactor would
  EXPECT_FALSE(protocol->connected());
}
// [guide:end]

// [guide:clock]
TEST(TestingGuide, ClockMovesOnlyWhenTold) {
  torsion::testing::Clock clock;
  int beats = 0;
  torsion::LoopingCall heartbeat(clock, [&beats] { ++beats; });
  heartbeat.start(30.0);  // the first call runs at once
  clock.advance(29.9);
  EXPECT_EQ(beats, 1);
  clock.pump({0.1, 30, 30});
  EXPECT_EQ(beats, 4);

  torsion::Deferred<int> reply;  // nobody will ever fire it
  std::string outcome;
  reply.addTimeout(5.0, clock).addErrback([&outcome](const torsion::Failure& f) {
    outcome = f.typeName();
    return 0;
  });
  clock.advance(5.0);
  EXPECT_EQ(outcome, "torsion::TimeoutError");
}
// [guide:end]

// [guide:memory-reactor]
class Greeter : public torsion::Protocol {
 public:
  void connectionMade() override { transport().write("HELLO\r\n"); }
};

// The code under test takes the narrowest interface it needs: here IReactorTCP.
std::shared_ptr<torsion::Connector> greet(torsion::IReactorTCP& reactor, const std::string& host) {
  return reactor.connectTCP(host, 4321, torsion::ClientFactory::forProtocol<Greeter>(), 10);
}

TEST(TestingGuide, MemoryReactorRecordsAndPlaysTheNetwork) {
  torsion::testing::MemoryReactor reactor;
  greet(reactor, "example.org");

  ASSERT_EQ(reactor.tcpClients.size(), 1u);
  EXPECT_EQ(reactor.tcpClients[0].host, "example.org");
  EXPECT_EQ(reactor.tcpClients[0].timeout, 10);

  auto& connector = *reactor.connectors[0];
  auto transport = connector.completeConnection();  // or failConnection(reason)
  EXPECT_EQ(transport->value(), "HELLO\r\n");
  connector.dropConnection();  // connectionLost, then clientConnectionLost
}
// [guide:end]

// [guide:memory-reactor-endpoints]
TEST(TestingGuide, EndpointsAndThreadsOnAMemoryReactor) {
  torsion::testing::MemoryReactor reactor;
  std::shared_ptr<torsion::Protocol> connected;
  torsion::clientFromString(reactor, "tcp:host=example.org:port=4321")
      ->connect(torsion::Factory::forProtocol<Greeter>())
      .addCallback([&connected](const std::shared_ptr<torsion::Protocol>& p) {
        connected = p;
        return p;
      });
  reactor.connectors.at(0)->completeConnection();
  EXPECT_NE(connected, nullptr);               // fired right after connectionMade
  reactor.connectors.at(0)->dropConnection();  // a connection made is the test's to end

  std::optional<int> answer;
  torsion::deferToThread(reactor, [] { return 6 * 7; }).addCallback([&answer](int v) { answer = v; });
  reactor.runThreadPoolJobs();    // the "pool" runs the job, on this thread
  EXPECT_FALSE(answer);           // the result travels back through callFromThread
  reactor.runCallsFromThreads();  // ... which the test runs too
  EXPECT_EQ(answer, 42);
}
// [guide:end]

// [guide:memory-reactor-clock]
TEST(TestingGuide, MemoryReactorClockDrivesReconnection) {
  torsion::testing::MemoryReactorClock reactor;  // IReactorTCP and IReactorTime at once
  auto factory = torsion::ReconnectingClientFactory::forProtocol<Greeter>(reactor);
  factory->jitter = 0;  // exact waits: after the first failure, initialDelay * factor = e
  reactor.connectTCP("example.org", 4321, factory);
  auto& connector = *reactor.connectors.at(0);

  connector.failConnection();  // ConnectionRefusedError by default
  reactor.advance(2.7);
  EXPECT_EQ(connector.state(), torsion::Connector::State::disconnected);
  reactor.advance(0.1);  // e seconds have passed: the factory connects again
  EXPECT_EQ(connector.state(), torsion::Connector::State::connecting);
  EXPECT_EQ(connector.connectCalls(), 1);
  factory->stopTrying();
}
// [guide:end]

// [guide:loopback]
class Collect : public torsion::protocols::LineReceiver {
 public:
  void lineReceived(torsion::Bytes line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

TEST(TestingGuide, LoopbackConnectsTwoProtocols) {
  torsion::testing::LoopbackOptions options;
  options.chunkSize = 1;  // one byte per dataReceived: the worst TCP can do
  auto [client, server, pump] =
      torsion::testing::connectedServerAndClient(std::make_shared<Shout>(), std::make_shared<Collect>(), options);

  client->sendLine("ping");
  pump.flush();  // "ping" goes over, "PING" comes back
  EXPECT_EQ(client->lines, std::vector<std::string>{"PING"});

  client->transport().loseConnection();
  pump.pump();  // Twisted's order: the peer hears first ...
  EXPECT_FALSE(server->connected());
  EXPECT_TRUE(client->connected());
  pump.pump();  // ... then the side that closed
  EXPECT_FALSE(client->connected());
}

TEST(TestingGuide, LoopbackInjectsFaults) {
  auto [client, server, pump] =
      torsion::testing::connectedServerAndClient(std::make_shared<Shout>(), std::make_shared<Collect>());
  pump.failAfter(3, torsion::Failure(torsion::ConnectionLost("cable cut")));
  client->sendLine("lost in transit");
  pump.flush();
  EXPECT_FALSE(server->connected());  // both saw connectionLost(ConnectionLost)
  EXPECT_FALSE(client->connected());
  EXPECT_TRUE(client->lines.empty());
}
// [guide:end]

}  // namespace
