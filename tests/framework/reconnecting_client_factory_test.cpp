#include <torsion/reconnecting_client_factory.hpp>

#include <torsion/errors.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

namespace torsion {
namespace {

using testing::MemoryConnector;
using testing::MemoryReactorClock;

// Resets the back-off once connected, as a real client should.
class Resetting : public Protocol {
 public:
  void connectionMade() override { std::static_pointer_cast<ReconnectingClientFactory>(factory)->resetDelay(); }
};

struct Fixture : ::testing::Test {
  MemoryReactorClock reactor;
  std::shared_ptr<ReconnectingClientFactory> factory = ReconnectingClientFactory::forProtocol<Resetting>(reactor);
  MemoryConnector& connect() {
    reactor.connectTCP("server", 9, factory);
    return *reactor.connectors.back();
  }
  double nextWait() const {
    const auto calls = reactor.getDelayedCalls();
    EXPECT_EQ(calls.size(), 1u);
    return calls.empty() ? -1 : calls[0].getTime() - reactor.seconds();
  }
};

using ReconnectingClientFactoryTest = Fixture;

TEST(ReconnectingClientFactory, DefaultsAreTwisteds) {
  ReconnectingClientFactory factory;
  EXPECT_EQ(factory.maxDelay, 3600);
  EXPECT_EQ(factory.initialDelay, 1.0);
  EXPECT_DOUBLE_EQ(factory.factor, std::exp(1.0));
  EXPECT_DOUBLE_EQ(factory.jitter, 0.119626565582);
  EXPECT_EQ(factory.delay, 1.0);
  EXPECT_EQ(factory.retries, 0);
  EXPECT_FALSE(factory.maxRetries.has_value());
  EXPECT_TRUE(factory.continueTrying);
  EXPECT_EQ(factory.clock, nullptr);
}

TEST_F(ReconnectingClientFactoryTest, AFailedAttemptIsRetriedAfterTheFirstWait) {
  factory->jitter = 0;
  auto& connector = connect();
  connector.failConnection();
  EXPECT_DOUBLE_EQ(nextWait(), std::exp(1.0));
  EXPECT_EQ(factory->retries, 1);
  EXPECT_TRUE(factory->pendingRetry().active());
  reactor.advance(2.7);
  EXPECT_EQ(connector.connectCalls(), 0);
  reactor.advance(0.1);
  EXPECT_EQ(connector.connectCalls(), 1);
  EXPECT_EQ(connector.state(), Connector::State::connecting);
  EXPECT_FALSE(factory->pendingRetry().active());
}

TEST_F(ReconnectingClientFactoryTest, WaitsGrowByFactorUpToMaxDelay) {
  factory->jitter = 0;
  factory->factor = 2;
  factory->maxDelay = 20;
  auto& connector = connect();
  std::vector<double> waits;
  for (int i = 0; i < 7; ++i) {
    connector.failConnection();
    waits.push_back(nextWait());
    reactor.advance(waits.back());
  }
  EXPECT_EQ(waits, (std::vector<double>{2, 4, 8, 16, 20, 20, 20}));
  EXPECT_EQ(connector.connectCalls(), 7);
}

TEST_F(ReconnectingClientFactoryTest, AConnectionLostIsRetriedAndSuccessResetsTheDelay) {
  factory->jitter = 0;
  auto& connector = connect();
  connector.failConnection();
  reactor.advance(nextWait());
  connector.failConnection();
  EXPECT_EQ(factory->retries, 2);
  reactor.advance(nextWait());
  connector.completeConnection();  // Resetting::connectionMade
  EXPECT_EQ(factory->retries, 0);
  EXPECT_EQ(factory->delay, 1.0);
  connector.dropConnection(Failure(ConnectionLost()));
  EXPECT_DOUBLE_EQ(nextWait(), std::exp(1.0));
}

TEST_F(ReconnectingClientFactoryTest, MaxRetriesGivesUp) {
  factory->jitter = 0;
  factory->maxRetries = 2;
  auto& connector = connect();
  connector.failConnection();
  reactor.advance(nextWait());
  connector.failConnection();
  reactor.advance(nextWait());
  connector.failConnection();
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
  EXPECT_EQ(connector.connectCalls(), 2);
  EXPECT_EQ(factory->numPorts(), 0) << "the connector stopped the factory";
}

TEST_F(ReconnectingClientFactoryTest, StopTryingCancelsTheScheduledRetry) {
  auto& connector = connect();
  connector.failConnection();
  auto pending = factory->pendingRetry();
  factory->stopTrying();
  EXPECT_TRUE(pending.cancelled());
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
  EXPECT_FALSE(factory->continueTrying);
  reactor.advance(10000);
  EXPECT_EQ(connector.connectCalls(), 0);
}

TEST_F(ReconnectingClientFactoryTest, StopTryingStopsAnAttemptInProgressWithoutRetrying) {
  auto& connector = connect();
  connector.failConnection();
  reactor.advance(nextWait());
  ASSERT_EQ(connector.state(), Connector::State::connecting);
  factory->stopTrying();
  EXPECT_TRUE(connector.stoppedConnecting());
  EXPECT_EQ(connector.state(), Connector::State::disconnected);
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
}

TEST_F(ReconnectingClientFactoryTest, StopTryingWhileConnectedMeansNoRetryAfterTheLoss) {
  auto& connector = connect();
  connector.completeConnection();
  factory->stopTrying();
  EXPECT_FALSE(connector.stoppedConnecting());
  connector.dropConnection();
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
}

TEST_F(ReconnectingClientFactoryTest, JitterSpreadsTheWaitsAroundTheExponentialCurve) {
  factory->seed(42);
  double sum = 0;
  int differentFromExact = 0;
  for (int i = 0; i < 200; ++i) {
    factory->resetDelay();
    auto& connector = connect();
    connector.failConnection();
    const double wait = nextWait();
    EXPECT_GT(wait, 0);
    sum += wait;
    if (std::abs(wait - std::exp(1.0)) > 1e-9) ++differentFromExact;
    factory->stopTrying();
  }
  EXPECT_NEAR(sum / 200, std::exp(1.0), 0.1);
  EXPECT_GT(differentFromExact, 190);
}

TEST_F(ReconnectingClientFactoryTest, ALargeJitterNeverMakesANegativeWait) {
  factory->jitter = 5;
  auto& connector = connect();
  for (int i = 0; i < 50; ++i) {
    connector.failConnection();
    EXPECT_GE(nextWait(), 0);
    reactor.advance(nextWait());
  }
}

TEST(ReconnectingClientFactory, WithoutAClockARetryIsALogicError) {
  testing::MemoryReactor reactor;
  auto factory = std::make_shared<ReconnectingClientFactory>();
  reactor.connectTCP("h", 1, factory);
  EXPECT_THROW(reactor.connectors[0]->failConnection(), std::logic_error);
}

TEST(ReconnectingClientFactory, RetryWithoutAConnectorIsALogicError) {
  testing::Clock clock;
  ReconnectingClientFactory factory(&clock);
  EXPECT_THROW(factory.retry(), std::logic_error);
}

TEST(ReconnectingClientFactory, TheScheduledRetryDoesNotKeepTheFactoryAlive) {
  MemoryReactorClock reactor;
  std::weak_ptr<ReconnectingClientFactory> weak;
  {
    auto factory = std::make_shared<ReconnectingClientFactory>(&reactor);
    weak = factory;
    reactor.connectTCP("h", 1, factory);
    reactor.connectors[0]->failConnection();
    reactor.connectors.clear();
    reactor.tcpClients.clear();
  }
  // The retry holds the connector, and the connector its factory: all three go when
  // the retry runs (the connector then stays with whoever called connectTCP).
  EXPECT_FALSE(weak.expired());
  reactor.advance(3600 * 2);
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace torsion
