// Conformance: back-pressure. Pausing a transport really stops reading (the peer's writes
// back up), resuming restores it; producers are paused and resumed by the water marks.
#include <torsion/reactor.hpp>

#include <string>

#include "raw_socket.hpp"
#include "reactor_test_support.hpp"
#include "scripted_protocols.hpp"

namespace {

using torsion_test::BackendTest;
using torsion_test::Built;
using torsion_test::Fd;
using torsion_test::runUntil;
using torsion_test::ScriptedProtocol;

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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the accept"));

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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
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
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  client.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return chunks != nullptr; }, 5, "connectionLost"));
  EXPECT_EQ(chunks->stops, 1);
  EXPECT_EQ(chunks->asked, 0);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(FlowControl);
