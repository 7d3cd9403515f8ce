// Conformance: hostile and broken peers, on every backend. A peer that resets in the
// middle of a read or of a write loses only its own connection (ConnectionLost) while
// the others keep echoing; a peer that never reads cannot make the server hold more
// than the water marks (with a producer) or the output cap (without one).
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/producer.hpp>
#include <torsion/reactor.hpp>

#include <memory>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

class PeerFaults : public BackendTest {};

constexpr std::size_t kBlob = 4u << 20;  // more than loopback's socket buffers take at once

// An echo server whose connections, on the command "flood", write `blobs` blobs of kBlob
// bytes (after setting the cap, if `cap` is given), recording the largest queue seen.
struct FloodServer {
  Built<ScriptedProtocol> built;
  std::size_t largestQueue = 0;
  std::shared_ptr<torsion::Factory> factory(int blobs, std::optional<std::size_t> cap) {
    return torsion_test::recordingFactory<ScriptedProtocol>(built, [this, blobs, cap](ScriptedProtocol& p) {
      p.onData = [this, blobs, cap](ScriptedProtocol& self, torsion::Bytes data) {
        if (data != "flood") {
          self.transport().write(data);
          return;
        }
        if (cap) self.transport().setMaxQueuedOutput(*cap);
        const std::string blob(kBlob, 'f');
        for (int i = 0; i < blobs && self.transport().connected() && !self.transport().disconnecting(); ++i) {
          self.transport().write(blob);
          largestQueue = std::max(largestQueue, self.transport().writeBufferSize());
        }
      };
    });
  }
};

// Three well-behaved clients that check the server still echoes them.
struct EchoClients {
  std::vector<Fd> fds;
  explicit EchoClients(std::uint16_t port) {
    for (int i = 0; i < 3; ++i) fds.push_back(torsion_test::connectLoopback(port));
  }
  ::testing::AssertionResult stillEchoed(torsion::Reactor& reactor, const std::string& what) {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      const std::string message = what + std::to_string(i);
      torsion_test::sendAll(fds[i].get(), message);
      std::string echoed;
      auto done = runUntil(
          reactor, [&] { return torsion_test::drain(fds[i].get(), echoed) && echoed == message; }, 5,
          "an echo from a well-behaved client");
      if (!done) return done;
    }
    return ::testing::AssertionSuccess();
  }
};

std::size_t countLost(const Built<ScriptedProtocol>& built) {
  std::size_t lost = 0;
  for (const auto& p : built.all) lost += p->lost() ? 1 : 0;
  return lost;
}

TEST_P(PeerFaults, AResetInTheMiddleOfAReadLosesOnlyThatConnection) {
  FloodServer server;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer loopback(reactor, server.factory(0, std::nullopt));
  EchoClients others(loopback.portNumber());
  ASSERT_TRUE(others.stillEchoed(reactor, "before"));

  Fd resetter = loopback.connectRaw();
  torsion_test::sendAll(resetter.get(), "half a mess");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.size() == 4 && !server.built.back().received.empty(); }, 5,
      "the first part of the message"));
  torsion_test::resetAndClose(resetter);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.back().lost(); }, 5, "the reset"));
  EXPECT_TRUE(server.built.back().lostWith<torsion::ConnectionLost>()) << server.built.back().lostReason->toString();
  EXPECT_TRUE(others.stillEchoed(reactor, "after"));
  EXPECT_EQ(countLost(server.built), 1u);
}

TEST_P(PeerFaults, AResetInTheMiddleOfAWriteLosesOnlyThatConnection) {
  FloodServer server;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer loopback(reactor, server.factory(2, std::nullopt));
  EchoClients others(loopback.portNumber());

  Fd resetter = loopback.connectRaw();
  torsion_test::sendAll(resetter.get(), "flood");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.size() == 4 && server.built.back().transport().writeBufferSize() > 0; }, 5,
      "the server's queue to fill"));
  std::string some;
  torsion_test::drain(resetter.get(), some);  // read a little: the write is under way
  torsion_test::resetAndClose(resetter);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.back().lost(); }, 5, "the reset"));
  EXPECT_TRUE(server.built.back().lostWith<torsion::ConnectionLost>()) << server.built.back().lostReason->toString();
  EXPECT_FALSE(server.built.back().lostWith<torsion::ConnectionAborted>());
  EXPECT_TRUE(others.stillEchoed(reactor, "after"));
  EXPECT_EQ(countLost(server.built), 1u);
}

TEST_P(PeerFaults, APeerThatNeverReadsIsDroppedAtTheOutputCapAndOthersGoOn) {
  torsion_test::LogCapture log;
  constexpr std::size_t kCap = 1u << 20;
  FloodServer server;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer loopback(reactor, server.factory(16, kCap));
  EchoClients others(loopback.portNumber());

  Fd sink = loopback.connectRaw();  // never reads
  torsion_test::sendAll(sink.get(), "flood");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.size() == 4 && server.built.back().lost(); }, 10,
      "the cap to drop the connection"));
  const auto& flooder = server.built.back();
  EXPECT_TRUE(flooder.lostWith<torsion::ConnectionLost>());
  EXPECT_NE(flooder.lostReason->toString().find("setMaxQueuedOutput"), std::string::npos)
      << flooder.lostReason->toString();
  EXPECT_TRUE(log.contains("the peer does not read")) << log.all();
  // Bounded: never more than the cap plus the one write that crossed it.
  EXPECT_LE(server.largestQueue, kCap + kBlob);
  EXPECT_TRUE(others.stillEchoed(reactor, "after"));
  EXPECT_EQ(countLost(server.built), 1u);
}

TEST_P(PeerFaults, WithTheCapOffAQueueMayGrowAsInTwisted) {
  FloodServer server;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer loopback(reactor, server.factory(4, std::size_t{0}));
  Fd sink = loopback.connectRaw();
  torsion_test::sendAll(sink.get(), "flood");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.built.size() == 1 && server.largestQueue > 0; }, 5, "the flood to queue"));
  EXPECT_EQ(server.built[0].transport().maxQueuedOutput(), 0u);
  EXPECT_GT(server.largestQueue, 1u << 20);
  torsion_test::runFor(reactor, 0.05);
  EXPECT_FALSE(server.built[0].lost());
}

TEST_P(PeerFaults, TheDefaultCapIs64MiB) {
  Built<ScriptedProtocol> servers;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  EXPECT_EQ(servers[0].transport().maxQueuedOutput(), torsion::Transport::kDefaultMaxQueuedOutput);
  EXPECT_EQ(torsion::Transport::kDefaultMaxQueuedOutput, std::size_t{64} << 20);
}

// Writes one 64 KiB chunk each time it is resumed; counts its pauses.
class ChunkProducer : public torsion::IPushProducer {
 public:
  explicit ChunkProducer(torsion::Transport& transport) : transport_(transport) {}
  void produce() {
    while (!paused_ && written_ < (64u << 20)) {
      transport_.write(chunk_);
      written_ += chunk_.size();
    }
  }
  void pauseProducing() override { paused_ = true; }
  void resumeProducing() override {
    paused_ = false;
    produce();
  }
  void stopProducing() override { paused_ = true; }
  std::size_t written() const { return written_; }

 private:
  torsion::Transport& transport_;
  std::string chunk_ = std::string(64 * 1024, 'p');
  bool paused_ = false;
  std::size_t written_ = 0;
};

TEST_P(PeerFaults, APeerThatNeverReadsHoldsAProducerAtTheHighWaterMark) {
  Built<ScriptedProtocol> servers;
  std::shared_ptr<ChunkProducer> producer;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
    p.onMade = [&](ScriptedProtocol& self) {
      producer = std::make_shared<ChunkProducer>(self.transport());
      self.transport().registerProducer(producer, true);
      producer->produce();
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd sink = server.connectRaw();  // never reads
  ASSERT_TRUE(runUntil(
      reactor, [&] { return producer != nullptr; }, 5, "the accept"));
  torsion_test::runFor(reactor, 0.2);
  // The kernel's buffers took what they could; the queue stays at the mark plus a chunk.
  EXPECT_LE(servers[0].transport().writeBufferSize(), 64u * 1024 + 64u * 1024);
  EXPECT_LT(producer->written(), 64u << 20) << "the producer was never paused";
  EXPECT_FALSE(servers[0].lost());
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(PeerFaults);
