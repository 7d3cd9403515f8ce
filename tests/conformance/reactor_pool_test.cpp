// ReactorPool: N reactors on N threads sharing one port through SO_REUSEPORT. The
// connections spread over the reactors, and the pool stops as a whole: from another
// thread, from one of its own reactors, and on SIGTERM. The suite's name contains
// "Thread" so that the TSan stage runs it.
#include <torsion/reactor_pool.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <thread>

#include "conformance_names.hpp"

namespace {

class ReactorPoolThreads : public BackendTest {
 protected:
  void SetUp() override {
    // A pool makes its reactors from a backend name, each run by a thread of its own; a
    // reactor attached to a user's io_context is run by that context, so there is no
    // attached pool to test.
    if (isAttachedAsio()) GTEST_SKIP() << "a ReactorPool builds its own reactors: it has no attached mode";
  }
};

constexpr std::size_t kReactors = 4;

// Echoes, and counts the connections its reactor accepted (each reactor has its own
// factory, so each counter is written by one thread only; the test reads it after run).
class CountingEcho : public torsion::Protocol {
 public:
  explicit CountingEcho(std::atomic<int>* accepted) : accepted_(accepted) {}
  void connectionMade() override { accepted_->fetch_add(1, std::memory_order_relaxed); }
  void dataReceived(torsion::Bytes data) override { transport().write(data); }

 private:
  std::atomic<int>* accepted_;
};

// Waits (bounded) until `fd` has one byte to read, and reads it.
bool readOneByte(int fd, char& byte) {
  const double deadline = torsion_test::now() + 10;
  while (torsion_test::now() < deadline) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 100) > 0) return ::recv(fd, &byte, 1, 0) == 1;
  }
  return false;
}

// A pool listening on one port, whose reactors each count what they accepted, and a
// flag per reactor raised once it runs.
struct CountingPool {
  explicit CountingPool(const std::string& backend) : pool(kReactors, backend) {
    auto ports = pool.listenTCP(
        0,
        [this](std::size_t index, torsion::Reactor& reactor) {
          reactor.callWhenRunning([this, index] { started[index].store(true); });
          auto factory = std::make_shared<torsion::Factory>();
          factory->protocol = [this, index] { return std::make_shared<CountingEcho>(&accepted[index]); };
          return factory;
        },
        128, "127.0.0.1");
    port = ports.front()->getHost().port;
    for (const auto& each : ports) EXPECT_EQ(each->getHost().port, port);
  }
  bool waitUntilAllRun() const {
    const double deadline = torsion_test::now() + 10;
    for (const auto& flag : started) {
      while (!flag.load()) {
        if (torsion_test::now() > deadline) return false;
        std::this_thread::yield();
      }
    }
    return true;
  }

  std::array<std::atomic<int>, kReactors> accepted{};
  std::array<std::atomic<bool>, kReactors> started{};
  std::uint16_t port = 0;
  torsion::ReactorPool pool;  // last: destroyed (and its threads joined) first
};

TEST_P(ReactorPoolThreads, ConnectionsSpreadOverEveryReactorAndStopFromAnotherThread) {
  CountingPool counting(backend());
  std::thread runner([&] { counting.pool.run(false); });
  ASSERT_TRUE(counting.waitUntilAllRun());
  EXPECT_TRUE(counting.pool.running());
  constexpr int kConnections = 64;
  int echoed = 0;
  for (int i = 0; i < kConnections; ++i) {
    auto client = torsion_test::connectLoopback(counting.port);
    torsion_test::sendAll(client.get(), "p");
    char byte = 0;
    echoed += readOneByte(client.get(), byte) && byte == 'p';
  }
  counting.pool.stop();
  runner.join();
  EXPECT_FALSE(counting.pool.running());
  EXPECT_EQ(echoed, kConnections);
  int total = 0;
  for (std::size_t i = 0; i < kReactors; ++i) {
    total += counting.accepted[i].load();
    // The kernel hashes each connection to one socket: with 64 connections over 4
    // sockets, a reactor left with none would mean the port was not shared.
    EXPECT_GT(counting.accepted[i].load(), 0) << "reactor " << i << " accepted nothing";
  }
  EXPECT_EQ(total, kConnections);
}

TEST_P(ReactorPoolThreads, OneReactorStoppingStopsThemAll) {
  CountingPool counting(backend());
  std::thread runner([&] { counting.pool.run(false); });
  ASSERT_TRUE(counting.waitUntilAllRun());
  torsion::Reactor& last = counting.pool.reactor(kReactors - 1);
  last.callFromThread([&last] { last.stop(); });
  runner.join();
  EXPECT_FALSE(counting.pool.running());
}

TEST_P(ReactorPoolThreads, AStopBeforeRunMakesRunReturnAtOnce) {
  CountingPool counting(backend());
  counting.pool.stop();
  counting.pool.run(false);
  EXPECT_FALSE(counting.pool.running());
}

TEST_P(ReactorPoolThreads, SigtermStopsEveryReactor) {
  CountingPool counting(backend());
  std::thread runner([&] { counting.pool.run(true); });
  ASSERT_TRUE(counting.waitUntilAllRun());
  // Reactor 0 holds SIGINT and SIGTERM while the pool runs: the signal stops it, and
  // its shutdown stops the others.
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  runner.join();
  EXPECT_FALSE(counting.pool.running());
}

TEST_P(ReactorPoolThreads, ThePortCanBeSharedOnlyByTheSameKindOfSocket) {
  auto plainOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& plain = *plainOwner;
  auto taken = plain.listenTCP(0, torsion::Factory::forProtocol<torsion::Protocol>(), 50, "127.0.0.1");
  torsion::ReactorPool pool(2, backend());
  const std::uint16_t port = taken->getHost().port;
  EXPECT_THROW(
      pool.listenTCP(
          port, [](std::size_t, torsion::Reactor&) { return torsion::Factory::forProtocol<torsion::Protocol>(); }, 50,
          "127.0.0.1"),
      torsion::CannotListenError);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(ReactorPoolThreads);
