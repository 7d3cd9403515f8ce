#include <torsion/testing/string_transport.hpp>

#include <torsion/errors.hpp>
#include <torsion/protocol.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torsion::testing {
namespace {

class Recording : public HalfCloseableProtocol {
 public:
  void connectionMade() override { made = true; }
  void dataReceived(Bytes data) override { received += data; }
  void connectionLost(const Failure& reason) override { lost.push_back(reason.typeName()); }
  void readConnectionLost() override { readClosed = true; }
  bool made = false;
  bool readClosed = false;
  std::string received;
  std::vector<std::string> lost;
};

class Simple : public Protocol {
 public:
  void connectionLost(const Failure& reason) override { lost.push_back(reason.typeName()); }
  std::vector<std::string> lost;
};

class Producer : public IPushProducer {
 public:
  void pauseProducing() override { events += 'p'; }
  void resumeProducing() override { events += 'r'; }
  void stopProducing() override { events += 's'; }
  std::string events;
};

class PullOnly : public IPullProducer {
 public:
  void resumeProducing() override { ++pulls; }
  void stopProducing() override {}
  int pulls = 0;
};

struct StringTransportTest : ::testing::Test {
  std::shared_ptr<StringTransport> transport = std::make_shared<StringTransport>();
  Recording protocol;
  void SetUp() override { transport->makeConnection(protocol); }
};

TEST_F(StringTransportTest, ConnectsTheProtocolAndRecordsWrites) {
  EXPECT_TRUE(protocol.made);
  EXPECT_TRUE(protocol.connected());
  EXPECT_EQ(&protocol.transport(), transport.get());
  transport->write("abc");
  const Bytes parts[] = {"d", "ef"};
  transport->writeSequence(parts);
  EXPECT_EQ(transport->value(), "abcdef");
  EXPECT_EQ(transport->writeCalls(), 2u);
  transport->clear();
  EXPECT_EQ(transport->value(), "");
}

TEST_F(StringTransportTest, DefaultAddressesAreTwisteds) {
  EXPECT_EQ(transport->getHost().toString(), "10.0.0.1:12345");
  EXPECT_EQ(transport->getPeer().toString(), "192.168.1.1:54321");
}

TEST_F(StringTransportTest, ReceiveDeliversAndIsQueuedWhilePaused) {
  transport->receive("one");
  EXPECT_EQ(protocol.received, "one");
  transport->pauseProducing();
  EXPECT_EQ(transport->producerState(), StringTransport::ProducerState::paused);
  transport->receive("two");
  transport->receive("three");
  EXPECT_EQ(protocol.received, "one");
  transport->resumeProducing();
  EXPECT_EQ(protocol.received, "onetwothree");
}

TEST_F(StringTransportTest, LoseConnectionMarksDisconnectingAndDropsLaterWrites) {
  transport->loseConnection();
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_TRUE(transport->connected());
  transport->write("late");
  transport->receive("late");
  EXPECT_EQ(transport->value(), "");
  EXPECT_EQ(protocol.received, "");
  EXPECT_TRUE(protocol.lost.empty());
  transport->reportConnectionLost();
  EXPECT_EQ(protocol.lost, std::vector<std::string>{"torsion::ConnectionDone"});
  EXPECT_FALSE(transport->connected());
  EXPECT_FALSE(transport->disconnecting());
  EXPECT_FALSE(protocol.connected());
  transport->reportConnectionLost();
  EXPECT_EQ(protocol.lost.size(), 1u) << "connectionLost is called once";
}

TEST_F(StringTransportTest, AbortReportsConnectionAborted) {
  transport->abortConnection();
  EXPECT_TRUE(transport->aborted());
  transport->reportConnectionLost();
  EXPECT_EQ(protocol.lost, std::vector<std::string>{"torsion::ConnectionAborted"});
}

TEST_F(StringTransportTest, EofHalfClosesAHalfCloseableProtocol) {
  transport->receiveEof();
  EXPECT_TRUE(protocol.readClosed);
  EXPECT_TRUE(transport->connected());
  transport->loseWriteConnection();
  EXPECT_TRUE(transport->writeConnectionClosed());
  transport->write("x");
  EXPECT_EQ(transport->value(), "");
}

TEST(StringTransport, EofClosesAnOrdinaryProtocol) {
  auto transport = std::make_shared<StringTransport>();
  Simple protocol;
  transport->makeConnection(protocol);
  transport->receiveEof();
  EXPECT_EQ(protocol.lost, std::vector<std::string>{"torsion::ConnectionDone"});
}

TEST(StringTransport, ReceiveWithoutAProtocolIsAnError) {
  auto transport = std::make_shared<StringTransport>();
  EXPECT_THROW(transport->receive("x"), std::logic_error);
}

TEST_F(StringTransportTest, ProducerRegistrationIsChecked) {
  auto producer = std::make_shared<Producer>();
  transport->registerProducer(producer, true);
  EXPECT_EQ(transport->producer(), producer);
  EXPECT_TRUE(transport->streaming());
  EXPECT_THROW(transport->registerProducer(std::make_shared<Producer>(), true), std::logic_error);
  transport->unregisterProducer();
  EXPECT_EQ(transport->producer(), nullptr);
  EXPECT_THROW(transport->registerProducer(std::make_shared<PullOnly>(), true), std::logic_error);
}

TEST_F(StringTransportTest, WaterMarksPauseAndResumeAStreamingProducer) {
  auto producer = std::make_shared<Producer>();
  transport->setWriteWatermarks(10, 4);
  EXPECT_EQ(transport->highWatermark(), 10u);
  EXPECT_EQ(transport->lowWatermark(), 4u);
  EXPECT_THROW(transport->setWriteWatermarks(1, 2), std::invalid_argument);
  transport->registerProducer(producer, true);
  transport->setWritesBlocked(true);
  transport->write("0123456789");
  EXPECT_EQ(producer->events, "");
  EXPECT_EQ(transport->writeBufferSize(), 10u);
  transport->write("x");
  EXPECT_EQ(producer->events, "p");
  EXPECT_TRUE(transport->producerPausedByWatermark());
  EXPECT_EQ(transport->value(), "");
  transport->setWritesBlocked(false);
  EXPECT_EQ(producer->events, "pr");
  EXPECT_EQ(transport->value(), "0123456789x");
  EXPECT_EQ(transport->writeBufferSize(), 0u);
}

TEST_F(StringTransportTest, FlushAsksAPullProducerForMore) {
  auto producer = std::make_shared<PullOnly>();
  transport->registerProducer(producer, false);
  transport->flush();
  transport->flush();
  EXPECT_EQ(producer->pulls, 2);
}

TEST_F(StringTransportTest, TheLossStopsAndForgetsTheProducer) {
  auto producer = std::make_shared<Producer>();
  transport->registerProducer(producer, true);
  transport->reportConnectionLost(Failure(ConnectionLost("reset")));
  EXPECT_EQ(producer->events, "s");
  EXPECT_EQ(transport->producer(), nullptr);
  EXPECT_EQ(protocol.lost, std::vector<std::string>{"torsion::ConnectionLost"});
  auto another = std::make_shared<Producer>();
  transport->registerProducer(another, true);
  EXPECT_EQ(another->events, "s") << "a producer for a dead transport is stopped at once";
}

TEST_F(StringTransportTest, StopProducingIsForGood) {
  transport->stopProducing();
  transport->resumeProducing();
  EXPECT_EQ(transport->producerState(), StringTransport::ProducerState::stopped);
}

TEST_F(StringTransportTest, TcpOptionsAreRecorded) {
  transport->setTcpNoDelay(true);
  transport->setTcpKeepAlive(true);
  EXPECT_TRUE(transport->getTcpNoDelay());
  EXPECT_TRUE(transport->getTcpKeepAlive());
}

}  // namespace
}  // namespace torsion::testing
