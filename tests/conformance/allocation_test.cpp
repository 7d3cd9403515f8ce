// Conformance: no allocation per read or write in steady state. This executable replaces
// the global operator new/delete with counting versions (allocation_counter.hpp) and
// counts what a running echo
// exchange allocates after warm-up, on every backend.
#include <torsion/detail/block_cache.hpp>
#include <torsion/factory.hpp>
#include <torsion/reactor.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "allocation_counter.hpp"
#include "conformance_names.hpp"
#include "loopback_server.hpp"

namespace {

class Allocation : public BackendTest {};

// The counter itself must work, or every zero below would prove nothing. A new/delete
// pair whose pointer does not escape may be elided by the optimiser ([expr.new]), so each
// pointer goes through a volatile variable: storing to it is observable behaviour, and
// what is deleted is read back from it, so neither allocation can be left out.
TEST(AllocationCounter, CountsEveryOperatorNew) {
  static char* volatile bytesSink = nullptr;
  static int* volatile boxedSink = nullptr;
  const torsion_test::AllocationCounter counter;
  bytesSink = new char[100];
  delete[] bytesSink;
  auto boxed = std::make_shared<int>(42);
  boxedSink = boxed.get();
  EXPECT_EQ(counter.count(), 2u);
  EXPECT_EQ(*boxedSink, 42);
}

// Runs `warmUp` round trips of `size`-byte messages, then counts the allocations of the
// next `measured` ones.
using torsion_test::EchoServer;
using torsion_test::PingClient;

std::uint64_t allocationsPerExchange(const std::string& backend, std::size_t size, long warmUp, long measured) {
  const std::string message(size, 'm');
  long roundTrips = 0;
  std::shared_ptr<PingClient> client;
  auto owner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion::Factory::forProtocol<EchoServer>(), 50, "127.0.0.1");
  auto factory = std::make_shared<torsion::ClientFactory>();
  factory->protocol = [&] { return client = std::make_shared<PingClient>(&message, &roundTrips); };
  reactor.connectTCP("127.0.0.1", port->getHost().port, factory, 5);
  EXPECT_TRUE(runUntil(
      reactor, [&] { return roundTrips >= warmUp; }, 20, "the warm-up round trips"));
  const torsion_test::AllocationCounter counter;
  const long target = roundTrips + measured;
  const bool finished = runUntil(
      reactor, [&] { return roundTrips >= target; }, 30, "the measured round trips");
  const std::uint64_t counted = counter.count();
  EXPECT_TRUE(finished);
  EXPECT_EQ(client->mismatches, 0);
  return counted;
}

TEST_P(Allocation, SmallEchoRoundTripsAllocateNothingInSteadyState) {
  EXPECT_EQ(allocationsPerExchange(backend(), 64, 200, 1000), 0u);
}

// A server that answers each one-byte request with `burst` bytes in one write.
class Burster : public torsion::Protocol {
 public:
  explicit Burster(const std::string* burst) : burst_(burst) {}
  void dataReceived(torsion::Bytes data) override {
    for (std::size_t i = 0; i < data.size(); ++i) transport().write(*burst_);
    maxQueued = std::max(maxQueued, transport().writeBufferSize());
  }
  std::size_t maxQueued = 0;

 private:
  const std::string* burst_;
};

// A push producer writing 8 KiB pieces until the transport pauses it: the well-behaved
// writer, whose queue stays near the high water mark.
class PieceProducer : public torsion::IPushProducer {
 public:
  explicit PieceProducer(torsion::Transport& transport) : transport_(transport) {}
  void pauseProducing() override { paused_ = true; }
  void resumeProducing() override {
    paused_ = false;
    while (!paused_ && transport_.connected()) {
      transport_.write(torsion::Bytes(piece_, sizeof piece_));
      maxQueued = std::max(maxQueued, transport_.writeBufferSize());
    }
  }
  void stopProducing() override { paused_ = true; }
  std::size_t maxQueued = 0;

 private:
  torsion::Transport& transport_;
  bool paused_ = false;
  char piece_[8 * 1024] = {};
};

class Streamer : public torsion::Protocol {
 public:
  void connectionMade() override {
    producer = std::make_shared<PieceProducer>(transport());
    transport().registerProducer(producer, true);
    producer->resumeProducing();
  }
  std::shared_ptr<PieceProducer> producer;
};

// The raw peer, watched by the same reactor so that it reads as soon as bytes arrive:
// counts what it receives without allocating, and in burst mode sends the next one-byte
// request once the whole previous answer is in.
class CountingPeer : public torsion::Selectable {
 public:
  explicit CountingPeer(torsion_test::Fd fd) : fd_(std::move(fd)) {}
  int fileno() const override { return fd_.get(); }
  void doRead() override {
    for (ssize_t got; (got = ::recv(fd_.get(), sink_, sizeof sink_, 0)) > 0;) {
      received += static_cast<std::size_t>(got);
    }
#if defined(TCP_QUICKACK)
    // Loopback segments are smaller than its 64 KiB MSS here, which the kernel would ACK
    // only after its 40 ms delayed-ACK timer: the small sender buffer would stall on it.
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#endif
    if (burstSize == 0) return;
    for (; received - counted_ >= burstSize; counted_ += burstSize) ++answered;
    requestMore();
  }
  void requestMore() {
    if (requested == answered && requested < target) {
      ::send(fd_.get(), "?", 1, MSG_NOSIGNAL);
      ++requested;
    }
  }
  std::size_t received = 0;
  std::size_t burstSize = 0;  // 0: just count
  long requested = 0;
  long answered = 0;
  long target = 0;

 private:
  torsion_test::Fd fd_;
  std::size_t counted_ = 0;
  char sink_[64 * 1024];
};

// Connects a CountingPeer to `port`, and gives the server's end of the connection a small
// send buffer (finding it by its address), so that what the server writes really waits in
// torsion's write queue instead of in the kernel.
std::unique_ptr<CountingPeer> peerWithSmallServerBuffer(torsion::Reactor& reactor, std::uint16_t port,
                                                        const bool& accepted) {
  auto client = torsion_test::connectLoopback(port);
  EXPECT_TRUE(runUntil(
      reactor, [&] { return accepted; }, 5, "the accept"));
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(client.get(), reinterpret_cast<sockaddr*>(&local), &length);
  const int server = torsion_test::findConnectedSocket(port, torsion_test::portOf(local));
  EXPECT_GE(server, 0) << "the server's socket was not found";
  int small = 32 * 1024;
  ::setsockopt(server, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  int one = 1;  // else Nagle holds each burst's last segment for a delayed ACK: 40 ms a burst
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto peer = std::make_unique<CountingPeer>(std::move(client));
  reactor.addReader(*peer);
  return peer;
}

TEST_P(Allocation, AProducerKeptAtTheHighWaterMarkAllocatesNothingInSteadyState) {
  std::shared_ptr<Streamer> server;
  bool accepted = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] {
    accepted = true;
    return server = std::make_shared<Streamer>();
  };
  torsion_test::LoopbackServer loopback(reactor, factory);
  auto peer = peerWithSmallServerBuffer(reactor, loopback.portNumber(), accepted);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return peer->received >= (4u << 20); }, 20, "the warm-up megabytes"));
  const std::size_t goal = peer->received + (32u << 20);
  const torsion_test::AllocationCounter counter;
  const bool finished = runUntil(
      reactor, [&] { return peer->received >= goal; }, 30, "the measured megabytes");
  const std::uint64_t counted = counter.count();
  ASSERT_TRUE(finished);
  EXPECT_GE(server->producer->maxQueued, 64u * 1024) << "the write queue should fill to the high water mark";
  EXPECT_EQ(counted, 0u) << "over 32 MiB streamed through the write queue";
  reactor.removeAll(*peer);
}

TEST_P(Allocation, BurstsThatQueueAllocateNothingInSteadyState) {
  constexpr std::size_t kBurst = 96 * 1024;
  const std::string burst(kBurst, 'b');
  std::shared_ptr<Burster> server;
  bool accepted = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] {
    accepted = true;
    return server = std::make_shared<Burster>(&burst);
  };
  torsion_test::LoopbackServer loopback(reactor, factory);
  auto peer = peerWithSmallServerBuffer(reactor, loopback.portNumber(), accepted);
  peer->burstSize = kBurst;
  peer->target = 50;
  peer->requestMore();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return peer->answered == peer->target; }, 20, "the warm-up bursts"));
  peer->target += 300;
  const torsion_test::AllocationCounter counter;
  peer->requestMore();
  const bool finished = runUntil(
      reactor, [&] { return peer->answered == peer->target; }, 30, "the measured bursts");
  const std::uint64_t counted = counter.count();
  ASSERT_TRUE(finished);
  EXPECT_GE(server->maxQueued, 32u * 1024) << "the bursts should have been queued";
  EXPECT_EQ(counted, 0u) << "over 300 bursts of 96 KiB";
  reactor.removeAll(*peer);
}

// The server's side of a churned connection: echoes, and counts the connections that
// ended. Allocates nothing itself beyond what make_shared does for it.
class CountedEcho : public torsion::Protocol {
 public:
  explicit CountedEcho(long* ended) : ended_(ended) {}
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
  void connectionLost(const torsion::Failure&) override { ++*ended_; }

 private:
  long* ended_;
};

// Opens `count` connections to `port` one after another, each sending one byte, reading
// it back and then closing (every second one with a reset), and waits until the server has seen each end.
bool churn(torsion::Reactor& reactor, std::uint16_t port, long count, const long& ended) {
  for (long i = 0; i < count; ++i) {
    const long target = ended + 1;
    auto client = torsion_test::connectLoopback(port);
    torsion_test::sendAll(client.get(), "x");
    char echoed = 0;
    if (!runUntil(
            reactor, [&] { return ::recv(client.get(), &echoed, 1, 0) == 1; }, 10, "the echo"))
      return false;
    if (i % 2 == 0) {
      torsion_test::resetAndClose(client);
    } else {
      client.reset();
    }
    if (!runUntil(
            reactor, [&] { return ended >= target; }, 10, "the server to see the connection end"))
      return false;
  }
  return true;
}

constexpr long kChurnedConnections = 100;

// The allocations of kChurnedConnections accepted connections, from accept to their
// destruction, on a server of `factory` (whose protocols count their ends in `ended`),
// after 20 connections of warm-up; none if a connection did not finish in time.
std::optional<std::uint64_t> allocationsOfChurnedConnections(const std::string& backend,
                                                             std::shared_ptr<torsion::Factory> factory,
                                                             const long& ended) {
  auto reactorOwner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *reactorOwner;
  const torsion_test::LoopbackServer server(reactor, std::move(factory));
  if (!churn(reactor, server.portNumber(), 20, ended)) return std::nullopt;
  const torsion_test::AllocationCounter counter;
  const bool finished = churn(reactor, server.portNumber(), kChurnedConnections, ended);
  const std::uint64_t counted = counter.count();
  if (!finished) return std::nullopt;
  return counted;
}

// What one accepted connection costs in allocations, from accept to its destruction: the
// protocol the factory builds (one make_shared, in this test's factory) and the
// transport. Pinned, so that a change adding an allocation to the accept path fails here.
// The peer's address must not be turned into text and parsed back, nor anything else be
// allocated per connection that a single block could hold.
TEST_P(Allocation, AnAcceptedConnectionCostsTwoAllocations) {
  long ended = 0;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<CountedEcho>(&ended); };
  const auto counted = allocationsOfChurnedConnections(backend(), factory, ended);
  ASSERT_TRUE(counted.has_value());
  const double perConnection = static_cast<double>(*counted) / kChurnedConnections;
  // One for the protocol (the factory's make_shared), one for the transport.
  EXPECT_LE(perConnection, 2.0) << *counted << " allocations over " << kChurnedConnections << " connections";
}

// A factory made by forProtocol takes its protocols' blocks from the same per-thread
// cache as the transports': once the cache is warm, an accepted connection allocates
// nothing at all. Where the cache is off (AddressSanitizer) the two blocks are allocated.
TEST_P(Allocation, AConnectionOfAForProtocolFactoryAllocatesNothingOnceWarm) {
  long ended = 0;
  const auto counted =
      allocationsOfChurnedConnections(backend(), torsion::Factory::forProtocol<CountedEcho>(&ended), ended);
  ASSERT_TRUE(counted.has_value());
  if (torsion::detail::kCachingBlocks) {
    EXPECT_EQ(*counted, 0u) << "over " << kChurnedConnections << " connections";
  } else {
    EXPECT_LE(*counted, 2u * kChurnedConnections) << "over " << kChurnedConnections << " connections";
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Allocation);
