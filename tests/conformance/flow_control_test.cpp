// Conformance: back-pressure. Pausing a transport really stops reading (the peer's writes
// back up), resuming restores it; producers are paused and resumed by the water marks.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/reactor.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "conformance_names.hpp"

namespace {

class FlowControl : public BackendTest {};

// Sends from a raw peer until the kernel will take no more, iterating the reactor between
// sends so that a transport still reading would keep draining. Returns what was sent.
std::string fillUntilBackedUp(torsion::Reactor& reactor, int fd, double timeoutSeconds) {
  const std::string block = torsion_test::patternBytes(64 * 1024, 11);
  std::string sent;
  const double deadline = torsion_test::now() + timeoutSeconds;
  int refusalsInARow = 0;
  while (torsion_test::now() < deadline && refusalsInARow < 3) {
    ssize_t n = ::send(fd, block.data(), block.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent.append(block, 0, static_cast<std::size_t>(n));
      refusalsInARow = 0;
    } else {
      ++refusalsInARow;  // full: give a reading transport the chance to drain it
      torsion_test::runFor(reactor, 0.05);
    }
    reactor.iterate(0);
  }
  return sent;
}

TEST_P(FlowControl, PausingReallyStopsReadingAndResumingRestoresIt) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onMade = [](ScriptedProtocol& self) { self.transport().pauseProducing(); };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));

  const std::string sent = fillUntilBackedUp(reactor, client.get(), 10);
  ASSERT_FALSE(sent.empty());
  EXPECT_LT(sent.size(), 256u << 20) << "the peer's writes never backed up";
  EXPECT_EQ(servers[0].dataCalls, 0) << "a paused transport read " << servers[0].received.size() << " bytes";

  servers[0].transport().resumeProducing();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].received.size() >= sent.size(); }, 10, "everything sent while paused"));
  EXPECT_EQ(servers[0].received.size(), sent.size());
  EXPECT_TRUE(servers[0].received == sent);
}

TEST_P(FlowControl, PausingInsideDataReceivedStopsFurtherCalls) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes) { self.transport().pauseProducing(); };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  torsion_test::sendAll(client.get(), "first");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].dataCalls == 1; }, 5, "the first read"));
  torsion_test::sendAll(client.get(), "second");
  torsion_test::runFor(reactor, 0.1);
  EXPECT_EQ(servers[0].dataCalls, 1);
  EXPECT_EQ(servers[0].received, "first");
  servers[0].transport().resumeProducing();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].received == "firstsecond"; }, 5, "the read after resume"));
}

TEST_P(FlowControl, ResumingAfterLoseConnectionDoesNotReadAgain) {
  // Twisted's resumeProducing does nothing once the transport is disconnecting: a
  // connection that is closing must not start delivering data again.
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes) {
      if (self.dataCalls > 1) return;
      self.transport().write(std::string(16 << 20, 'q'));  // the peer does not read: stays queued
      self.transport().loseConnection();
      self.transport().resumeProducing();
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  torsion_test::sendAll(client.get(), "close after this");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].dataCalls == 1; }, 5, "the request"));
  torsion_test::sendAll(client.get(), "more");
  torsion_test::runFor(reactor, 0.1);
  EXPECT_EQ(servers[0].dataCalls, 1) << "data was delivered after loseConnection";
  EXPECT_TRUE(servers[0].transport().disconnecting());
}

// A push producer that writes until paused.
class Flood : public torsion::IPushProducer {
 public:
  explicit Flood(torsion::Transport& transport, std::size_t total) : transport_(transport), left_(total) {}
  void pauseProducing() override {
    ++pauses;
    paused = true;
  }
  void resumeProducing() override {
    ++resumes;
    paused = false;
    produce();
  }
  void stopProducing() override { ++stops; }
  void produce() {
    while (!paused && left_ > 0) {
      std::size_t size = std::min<std::size_t>(left_, 8 * 1024);
      transport_.write(std::string(size, 'f'));
      left_ -= size;
      maxQueued = std::max(maxQueued, transport_.writeBufferSize());
    }
  }
  int pauses = 0;
  int resumes = 0;
  int stops = 0;
  bool paused = false;
  std::size_t maxQueued = 0;

 private:
  torsion::Transport& transport_;
  std::size_t left_;
};

TEST_P(FlowControl, AStreamingProducerIsPausedAboveTheHighWaterMarkAndResumedBelowTheLow) {
  constexpr std::size_t kTotal = 8 << 20;
  std::shared_ptr<Flood> flood;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol& self) {
      EXPECT_THROW(self.transport().setWriteWatermarks(10, 20), std::invalid_argument);
      self.transport().setWriteWatermarks(64 * 1024, 16 * 1024);
      flood = std::make_shared<Flood>(self.transport(), kTotal);
      self.transport().registerProducer(flood, true);
      EXPECT_THROW(self.transport().registerProducer(flood, true), std::logic_error);
      flood->produce();
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return flood != nullptr; }, 5, "the producer"));
  // The peer reads slowly at first, so the queue must fill and the producer be paused.
  ASSERT_TRUE(runUntil(
      reactor, [&] { return flood->pauses > 0; }, 5, "the first pause"));
  std::string got;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return torsion_test::drain(client.get(), got) && got.size() == kTotal; }, 20, "all 8 MiB"));
  EXPECT_GT(flood->resumes, 0);
  EXPECT_LT(flood->maxQueued, 64u * 1024 + 8 * 1024 + 1) << "the queue grew past high water plus one write";
  servers[0].transport().unregisterProducer();
  servers[0].transport().loseConnection();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "the close"));
  EXPECT_EQ(flood->stops, 0) << "an unregistered producer is not told anything";
}

// A pull producer writes one chunk each time it is asked.
class Chunks : public torsion::IPullProducer {
 public:
  Chunks(torsion::Transport& transport, int count) : transport_(transport), left_(count) {}
  void resumeProducing() override {
    ++asked;
    if (left_ == 0) return;
    transport_.write(std::string(32 * 1024, static_cast<char>('a' + left_ % 26)));
    if (--left_ == 0) {
      transport_.unregisterProducer();
      transport_.loseConnection();
    }
  }
  void stopProducing() override { ++stops; }
  int asked = 0;
  int stops = 0;

 private:
  torsion::Transport& transport_;
  int left_;
};

TEST_P(FlowControl, APullProducerIsAskedForOneChunkEachTimeTheQueueDrains) {
  constexpr int kChunks = 64;
  std::shared_ptr<Chunks> chunks;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol& self) {
      chunks = std::make_shared<Chunks>(self.transport(), kChunks);
      self.transport().registerProducer(chunks, false);
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  std::string got;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), got)); }, 10,
      "every chunk and the close"));
  EXPECT_EQ(got.size(), kChunks * 32u * 1024);
  EXPECT_EQ(chunks->asked, kChunks);
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>());
}

TEST_P(FlowControl, AProducerRegisteredOnALostConnectionIsStopped) {
  Built<ScriptedProtocol> servers;
  std::shared_ptr<Chunks> chunks;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onLost = [&](ScriptedProtocol& self, const torsion::Failure&) {
      chunks = std::make_shared<Chunks>(self.transport(), 1);
      self.transport().registerProducer(chunks, false);
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  client.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return chunks != nullptr; }, 5, "connectionLost"));
  EXPECT_EQ(chunks->stops, 1);
  EXPECT_EQ(chunks->asked, 0);
}

// ---- a fast producer against a slow reader (the former transports flow-control suite)

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

TEST_P(FlowControl, FastProducerToSlowReaderStaysUnderHighWaterMark) {
  Stats stats;
  auto factory = std::make_shared<torsion::Factory>();
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  factory->protocol = [&] { return std::make_shared<ProducingServer>(&reactor, &stats); };
  torsion_test::LoopbackServer server(reactor, factory);
  int reader = connectBlockingReader(server.portNumber());
  ASSERT_GE(reader, 0);

  std::size_t received = 0;
  char buffer[32 * 1024];
  bool closed = false;
  // The reader takes at most 32 KiB per pass of the loop: slower than the producer, which
  // could fill the queue by far more than that in every pass.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    torsion_test::step(reactor, 0.001);
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

TEST_P(FlowControl, PullProducerIsAskedForEachChunk) {
  std::shared_ptr<ChunkPuller> puller;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<PullingServer>(&puller); };
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, factory);
  int reader = connectBlockingReader(server.portNumber());
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

TEST_P(FlowControl, StreamingProducerMustBePushProducer) {
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
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, factory);
  int reader = connectBlockingReader(server.portNumber());
  ASSERT_TRUE(runUntil(reactor, [&] { return !error.empty(); }));
  ::close(reader);
  EXPECT_NE(error.find("IPushProducer"), std::string::npos) << error;
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(FlowControl);
