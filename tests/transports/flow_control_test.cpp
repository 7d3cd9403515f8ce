// Flow control: a fast producer writing to a slow reader keeps the write queue bounded by
// the high water mark, and is resumed once the reader catches up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

constexpr std::size_t kChunk = 16 * 1024;
constexpr std::size_t kTotal = 4 * 1024 * 1024;
constexpr std::size_t kHighWater = 64 * 1024;

struct Stats {
  std::size_t written = 0;
  std::size_t maxQueued = 0;
  int pauses = 0;
  int resumes = 0;
  bool done = false;
};

// Writes chunks as fast as it is allowed to: on every pass of the loop while not paused.
class FastProducer : public torsion::IPushProducer {
 public:
  FastProducer(torsion::Reactor& reactor, torsion::Transport& transport, Stats& stats)
      : reactor_(reactor), transport_(transport), stats_(stats), chunk_(kChunk, 'p') {}
  void start() { produce(); }
  void pauseProducing() override {
    paused_ = true;
    ++stats_.pauses;
  }
  void resumeProducing() override {
    ++stats_.resumes;
    paused_ = false;
    produce();
  }
  void stopProducing() override { stopped_ = true; }

 private:
  void produce() {
    while (!paused_ && !stopped_ && stats_.written < kTotal) {
      transport_.write(chunk_);
      stats_.written += chunk_.size();
      stats_.maxQueued = std::max(stats_.maxQueued, transport_.writeBufferSize());
    }
    if (stats_.written >= kTotal && !stats_.done) {
      stats_.done = true;
      transport_.unregisterProducer();
      transport_.loseConnection();
    }
  }

  torsion::Reactor& reactor_;
  torsion::Transport& transport_;
  Stats& stats_;
  std::string chunk_;
  bool paused_ = false;
  bool stopped_ = false;
};

class ProducingServer : public torsion::Protocol {
 public:
  ProducingServer(torsion::Reactor* reactor, Stats* stats) : reactor_(reactor), stats_(stats) {}
  void connectionMade() override {
    transport().setWriteWatermarks(kHighWater, kHighWater / 4);
    producer_ = std::make_shared<FastProducer>(*reactor_, transport(), *stats_);
    transport().registerProducer(producer_, true);
    producer_->start();
  }

 private:
  torsion::Reactor* reactor_;
  Stats* stats_;
  std::shared_ptr<FastProducer> producer_;
};

int connectBlockingReader(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) return -1;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

class FlowControlTest : public testing::TestWithParam<std::string> {
 protected:
  torsion::Reactor reactor{GetParam()};
};

TEST_P(FlowControlTest, FastProducerToSlowReaderStaysUnderHighWaterMark) {
  Stats stats;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<ProducingServer>(&reactor, &stats); };
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  int reader = connectBlockingReader(port->getHost().port);
  ASSERT_GE(reader, 0);

  std::size_t received = 0;
  char buffer[32 * 1024];
  bool closed = false;
  // The reader takes at most 32 KiB per pass of the loop: slower than the producer, which
  // could fill the queue by far more than that in every pass.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    reactor.iterate(0.001);
    ssize_t n = ::recv(reader, buffer, sizeof buffer, 0);
    if (n > 0) received += static_cast<std::size_t>(n);
    if (n == 0) closed = true;
  }
  ASSERT_TRUE(closed) << "timed out after receiving " << received << " bytes";
  ::close(reader);

  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(stats.written, kTotal);
  EXPECT_GT(stats.pauses, 0) << "the producer was never paused: back-pressure did not work";
  EXPECT_GT(stats.resumes, 0) << "the producer was never resumed";
  // One chunk may cross the mark before the pause takes effect; never more.
  EXPECT_LE(stats.maxQueued, kHighWater + kChunk);
}

// A pull producer is asked for one chunk each time the queue drains.
class ChunkPuller : public torsion::IPullProducer {
 public:
  ChunkPuller(torsion::Transport& transport, int chunks) : transport_(transport), left_(chunks) {}
  void resumeProducing() override {
    ++calls;
    if (left_ == 0) {
      transport_.unregisterProducer();
      transport_.loseConnection();
      return;
    }
    --left_;
    transport_.write(std::string(1000, 'q'));
  }
  void stopProducing() override { stopped = true; }
  int calls = 0;
  bool stopped = false;

 private:
  torsion::Transport& transport_;
  int left_;
};

class PullingServer : public torsion::Protocol {
 public:
  explicit PullingServer(std::shared_ptr<ChunkPuller>* out) : out_(out) {}
  void connectionMade() override {
    *out_ = std::make_shared<ChunkPuller>(transport(), 50);
    transport().registerProducer(*out_, false);
  }

 private:
  std::shared_ptr<ChunkPuller>* out_;
};

TEST_P(FlowControlTest, PullProducerIsAskedForEachChunk) {
  std::shared_ptr<ChunkPuller> puller;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<PullingServer>(&puller); };
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  int reader = connectBlockingReader(port->getHost().port);
  ASSERT_GE(reader, 0);
  std::size_t received = 0;
  char buffer[8192];
  ASSERT_TRUE(runUntil(reactor, [&] {
    ssize_t n = ::recv(reader, buffer, sizeof buffer, 0);
    if (n > 0) received += static_cast<std::size_t>(n);
    return n == 0;
  }));
  ::close(reader);
  EXPECT_EQ(received, 50u * 1000u);
  ASSERT_TRUE(puller);
  EXPECT_EQ(puller->calls, 51);  // 50 chunks, then one call that finds nothing left
}

TEST_P(FlowControlTest, StreamingProducerMustBePushProducer) {
  struct OnlyPull : torsion::IPullProducer {
    void resumeProducing() override {}
    void stopProducing() override {}
  };
  std::string error;
  struct Registrar : torsion::Protocol {
    explicit Registrar(std::string* e) : error(e) {}
    void connectionMade() override {
      try {
        transport().registerProducer(std::make_shared<OnlyPull>(), true);
      } catch (const std::logic_error& e) {
        *error = e.what();
      }
      transport().loseConnection();
    }
    std::string* error;
  };
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<Registrar>(&error); };
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  int reader = connectBlockingReader(port->getHost().port);
  ASSERT_TRUE(runUntil(reactor, [&] { return !error.empty(); }));
  ::close(reader);
  EXPECT_NE(error.find("IPushProducer"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, FlowControlTest, testing::ValuesIn(torsion::Reactor::availableBackends()),
                         torsion_test::backendTestName);

}  // namespace
