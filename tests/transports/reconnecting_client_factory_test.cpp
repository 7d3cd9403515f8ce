// ReconnectingClientFactory on every real backend: it takes only an IReactorTime for its
// waits, and the same code that tests/protocols/ runs on MemoryReactorClock reconnects
// over real sockets here.
#include <torsion/reconnecting_client_factory.hpp>

#include <gtest/gtest.h>
#include <torsion/reactor.hpp>

#include <functional>
#include <memory>
#include <string>

#include "raw_socket.hpp"
#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

class Resetting : public torsion::Protocol {
 public:
  void connectionMade() override {
    std::static_pointer_cast<torsion::ReconnectingClientFactory>(factory)->resetDelay();
    transport().write("hi");
  }
};

// Counts the refused attempts, and makes a server appear after the second.
class CountingFactory : public torsion::ReconnectingClientFactory {
 public:
  using ReconnectingClientFactory::ReconnectingClientFactory;
  void clientConnectionFailed(torsion::Connector& failed, const torsion::Failure& reason) override {
    ++failures;
    if (failures == 2 && onSecondFailure) onSecondFailure();
    ReconnectingClientFactory::clientConnectionFailed(failed, reason);
  }
  int failures = 0;
  std::function<void()> onSecondFailure;
};

class Received : public torsion::Protocol {
 public:
  explicit Received(std::string& sink) : sink_(sink) {}
  void dataReceived(torsion::Bytes data) override { sink_.append(data); }

 private:
  std::string& sink_;
};

class ReconnectingTest : public torsion_test::BackendTest {
 protected:
  torsion_test::TestReactor owner_{GetParam()};
  torsion::Reactor& reactor = *owner_;
};

TEST_P(ReconnectingTest, RetriesARefusedConnectionUntilTheServerIsThere) {
  const std::uint16_t port = torsion_test::unusedPort();
  std::string received;
  auto factory = std::make_shared<CountingFactory>(&reactor);
  factory->protocol = [] { return std::make_shared<Resetting>(); };
  factory->initialDelay = 0.01;
  factory->factor = 1;
  factory->jitter = 0;
  factory->resetDelay();  // the first wait is initialDelay from now on
  std::shared_ptr<torsion::ListeningPort> server;
  factory->onSecondFailure = [&] {
    auto serverFactory = std::make_shared<torsion::Factory>();
    serverFactory->protocol = [&received] { return std::make_shared<Received>(received); };
    server = reactor.listenTCP(port, serverFactory, 50, "127.0.0.1");
  };
  reactor.connectTCP("127.0.0.1", port, factory, 5);
  ASSERT_TRUE(runUntil(reactor, [&] { return received == "hi"; }));
  EXPECT_EQ(factory->failures, 2);
  EXPECT_EQ(factory->retries, 0);  // reset by the protocol's connectionMade
  factory->stopTrying();
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(ReconnectingTest);

}  // namespace
