// The in-memory loopback (Twisted's iosim): two protocols connected by StringTransports,
// bytes moved by IOPump, closes in Twisted's order, chunked delivery, injected faults.
#include <torsion/testing/loopback.hpp>

#include <torsion/errors.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/protocols/int_n_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torsion::testing {
namespace {

using Log = std::vector<std::string>;

// Records what it hears, under a name, into a log shared with its peer.
class Recorder : public Protocol {
 public:
  Recorder(std::string name, std::shared_ptr<Log> log) : name_(std::move(name)), log_(std::move(log)) {}
  void connectionMade() override { log_->push_back(name_ + " made"); }
  void dataReceived(Bytes data) override {
    received.append(data);
    ++reads;
  }
  void connectionLost(const Failure& reason) override { log_->push_back(name_ + " lost " + reason.typeName()); }
  std::string received;
  int reads = 0;

 private:
  std::string name_;
  std::shared_ptr<Log> log_;
};

struct Pair {
  std::shared_ptr<Log> log = std::make_shared<Log>();
  std::shared_ptr<Recorder> server = std::make_shared<Recorder>("server", log);
  std::shared_ptr<Recorder> client = std::make_shared<Recorder>("client", log);
};

TEST(Loopback, MovesBytesBothWaysOnlyWhenPumped) {
  Pair p;
  auto [client, server, pump] = connectedServerAndClient(p.server, p.client);
  EXPECT_EQ(*p.log, (Log{"server made", "client made"}));
  client->transport().write("hello");
  server->transport().write("welcome");
  EXPECT_EQ(server->received, "");  // nothing moves by itself
  EXPECT_TRUE(pump.pump());
  EXPECT_EQ(server->received, "hello");
  EXPECT_EQ(client->received, "welcome");
  EXPECT_FALSE(pump.pump());
  EXPECT_EQ(pump.bytesDelivered(), 12u);
  EXPECT_EQ(client->transport().getPeer(), server->transport().getHost());
  EXPECT_EQ(server->transport().getPeer(), client->transport().getHost());
}

TEST(Loopback, EchoAnswersWithinOneFlush) {
  auto [client, server, pump] = connectedServerAndClient(std::make_shared<protocols::Echo>(), Pair().client);
  client->transport().write("ping");
  EXPECT_TRUE(pump.flush());
  EXPECT_EQ(client->received, "ping");
  EXPECT_FALSE(pump.flush());
}

TEST(Loopback, LoseConnectionReachesThePeerFirstThenTheCloser) {
  {
    Pair p;
    auto loop = connectedServerAndClient(p.server, p.client);
    p.server->transport().write("bye");
    p.server->transport().loseConnection();
    loop.pump.flush();
    EXPECT_EQ(p.client->received, "bye");  // queued bytes go out before the close
    EXPECT_EQ(*p.log, (Log{"server made", "client made", "client lost torsion::ConnectionDone",
                           "server lost torsion::ConnectionDone"}));
  }
  {
    Pair p;
    auto loop = connectedServerAndClient(p.server, p.client);
    p.client->transport().loseConnection();
    EXPECT_TRUE(loop.pump.pump());
    EXPECT_EQ(p.log->back(), "server lost torsion::ConnectionDone");
    EXPECT_TRUE(p.client->connected());  // the closer hears at the next pump
    EXPECT_TRUE(loop.pump.pump());
    EXPECT_EQ(p.log->back(), "client lost torsion::ConnectionDone");
    EXPECT_FALSE(loop.pump.pump());
  }
}

TEST(Loopback, AbortDropsWhatWasNotSentAndResetsThePeer) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  p.client->transport().write("never sent");
  p.client->transport().abortConnection();
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "");
  EXPECT_EQ(*p.log, (Log{"server made", "client made", "server lost torsion::ConnectionLost",
                         "client lost torsion::ConnectionAborted"}));
}

class HalfCloser : public HalfCloseableProtocol {
 public:
  void readConnectionLost() override {
    events.push_back("read lost");
    transport().write("reply after EOF");
    transport().loseConnection();
  }
  void writeConnectionLost() override { events.push_back("write lost"); }
  void dataReceived(Bytes data) override { received.append(data); }
  void connectionLost(const Failure& reason) override { events.push_back("lost " + reason.typeName()); }
  std::vector<std::string> events;
  std::string received;
};

TEST(Loopback, HalfCloseDeliversEndOfFileAndWritingGoesOn) {
  auto server = std::make_shared<HalfCloser>();
  auto client = std::make_shared<HalfCloser>();
  auto loop = connectedServerAndClient(server, client);
  client->transport().write("request");
  client->transport().loseWriteConnection();
  loop.pump.flush();
  EXPECT_EQ(server->received, "request");
  EXPECT_EQ(client->received, "reply after EOF");
  EXPECT_EQ(server->events, (std::vector<std::string>{"read lost", "lost torsion::ConnectionDone"}));
  EXPECT_EQ(client->events, (std::vector<std::string>{"write lost", "lost torsion::ConnectionDone"}));
}

TEST(Loopback, EndOfFileClosesAProtocolThatCannotHalfClose) {
  Pair p;
  auto client = std::make_shared<HalfCloser>();
  auto loop = connectedServerAndClient(p.server, client);
  client->transport().loseWriteConnection();
  loop.pump.flush();
  EXPECT_EQ(p.log->back(), "server lost torsion::ConnectionDone");
  EXPECT_EQ(client->events, (std::vector<std::string>{"write lost", "lost torsion::ConnectionDone"}));
}

TEST(Loopback, ChunkedDeliverySplitsEveryWrite) {
  Pair p;
  LoopbackOptions options;
  options.chunkSize = 3;
  auto loop = connectedServerAndClient(p.server, p.client, options);
  p.client->transport().write("abcdefgh");
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "abcdefgh");
  EXPECT_EQ(p.server->reads, 3);  // abc, def, gh
  loop.pump.setChunkSize(0);
  p.client->transport().write("ijkl");
  loop.pump.flush();
  EXPECT_EQ(p.server->reads, 4);
}

TEST(Loopback, FailAfterCutsTheStreamAndFailsBothSides) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  loop.pump.failAfter(5, Failure(ConnectionLost("cable cut")));
  p.client->transport().write("0123456789");
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "01234");
  EXPECT_EQ(*p.log, (Log{"server made", "client made", "server lost torsion::ConnectionLost",
                         "client lost torsion::ConnectionLost"}));
  p.server->transport().write("too late");
  EXPECT_FALSE(loop.pump.flush());
  EXPECT_EQ(p.client->received, "");
}

TEST(Loopback, FailConnectionNowDropsUndeliveredBytes) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  p.server->transport().write("unsent");
  loop.pump.failConnection(Failure(TimeoutError()));
  EXPECT_FALSE(loop.pump.flush());
  EXPECT_EQ(p.client->received, "");
  EXPECT_EQ(*p.log, (Log{"server made", "client made", "server lost torsion::TimeoutError",
                         "client lost torsion::TimeoutError"}));
}

TEST(Loopback, APausedReceiverGetsTheBytesWhenItResumes) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  p.server->transport().pauseProducing();
  p.client->transport().write("held");
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "");
  p.server->transport().resumeProducing();
  EXPECT_EQ(p.server->received, "held");
}

// A pull producer writing five chunks, one each time it is asked.
class FiveChunks : public IPullProducer {
 public:
  explicit FiveChunks(Transport& transport) : transport_(transport) {}
  void resumeProducing() override {
    transport_.write("chunk" + std::to_string(++sent) + ";");
    if (sent == 5) transport_.unregisterProducer();
  }
  void stopProducing() override {}
  int sent = 0;

 private:
  Transport& transport_;
};

TEST(Loopback, APullProducerIsAskedAtEveryPump) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  auto producer = std::make_shared<FiveChunks>(p.client->transport());
  p.client->transport().registerProducer(producer, false);
  loop.pump.flush();
  EXPECT_EQ(producer->sent, 5);
  EXPECT_EQ(p.server->received, "chunk1;chunk2;chunk3;chunk4;chunk5;");
}

TEST(Loopback, WritesBlockedOnASideWaitUntilUnblocked) {
  Pair p;
  auto loop = connectedServerAndClient(p.server, p.client);
  loop.pump.clientTransport()->setWritesBlocked(true);
  p.client->transport().write("queued");
  EXPECT_EQ(p.client->transport().writeBufferSize(), 6u);
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "");
  loop.pump.clientTransport()->setWritesBlocked(false);
  loop.pump.flush();
  EXPECT_EQ(p.server->received, "queued");
}

// Two protocols that answer each other forever.
class PingPong : public Protocol {
 public:
  void connectionMade() override { transport().write("x"); }
  void dataReceived(Bytes data) override { transport().write(data); }
};

TEST(Loopback, FlushGivesUpOnAConversationThatNeverEnds) {
  LoopbackOptions options;
  options.greet = false;
  auto loop = connectedServerAndClient(std::make_shared<PingPong>(), std::make_shared<PingPong>(), options);
  EXPECT_THROW(loop.pump.flush(50), std::logic_error);
}

class Later : public Protocol {
 public:
  explicit Later(Clock& clock) : clock_(clock) {}
  void dataReceived(Bytes data) override {
    clock_.callLater(0, [this, reply = std::string(data)] { transport().write("later:" + reply); });
  }

 private:
  Clock& clock_;
};

TEST(Loopback, AClockIsAdvancedByZeroAtEachPump) {
  Clock clock;
  LoopbackOptions options;
  options.clock = &clock;
  auto server = std::make_shared<Later>(clock);
  auto loop = connectedServerAndClient(server, Pair().client, options);
  loop.client->transport().write("q");
  loop.pump.flush();
  EXPECT_EQ(loop.client->received, "later:q");
}

// ---- Framing protocols talking to each other ---------------------------------------

class LineLogger : public protocols::LineReceiver {
 public:
  void lineReceived(Bytes line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

class NetstringLogger : public protocols::NetstringReceiver {
 public:
  void stringReceived(Bytes message) override { messages.emplace_back(message); }
  std::vector<std::string> messages;
};

class Int32Logger : public protocols::Int32StringReceiver {
 public:
  void stringReceived(Bytes message) override { messages.emplace_back(message); }
  std::vector<std::string> messages;
};

// Every chunk size from 1 (a byte per read) to whole writes: the receiver reassembles.
class FramingThroughLoopback : public ::testing::TestWithParam<std::size_t> {
 protected:
  LoopbackOptions options() const {
    LoopbackOptions o;
    o.chunkSize = GetParam();
    return o;
  }
};

TEST_P(FramingThroughLoopback, Lines) {
  auto loop = connectedServerAndClient(std::make_shared<LineLogger>(), std::make_shared<LineLogger>(), options());
  loop.client->sendLine("hello");
  loop.client->sendLine("");
  loop.server->sendLine("a longer line, split by the pump");
  loop.pump.flush();
  EXPECT_EQ(loop.server->lines, (std::vector<std::string>{"hello", ""}));
  EXPECT_EQ(loop.client->lines, (std::vector<std::string>{"a longer line, split by the pump"}));
}

TEST_P(FramingThroughLoopback, Netstrings) {
  auto loop =
      connectedServerAndClient(std::make_shared<NetstringLogger>(), std::make_shared<NetstringLogger>(), options());
  loop.client->sendString("one");
  loop.client->sendString(std::string(300, 'z'));
  loop.pump.flush();
  EXPECT_EQ(loop.server->messages, (std::vector<std::string>{"one", std::string(300, 'z')}));
}

TEST_P(FramingThroughLoopback, Int32Strings) {
  auto loop = connectedServerAndClient(std::make_shared<Int32Logger>(), std::make_shared<Int32Logger>(), options());
  loop.server->sendString(std::string("\0binary\r\n", 9));
  loop.server->sendString("");
  loop.pump.flush();
  EXPECT_EQ(loop.client->messages, (std::vector<std::string>{std::string("\0binary\r\n", 9), ""}));
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, FramingThroughLoopback, ::testing::Values(1, 2, 7, 0));

TEST(Loopback, FramingSurvivesAFailureMidMessage) {
  auto loop = connectedServerAndClient(std::make_shared<Int32Logger>(), std::make_shared<Int32Logger>());
  loop.pump.failAfter(4 + 3 + 2, Failure(ConnectionLost()));  // the first message and part of the second
  loop.client->sendString("abc");
  loop.client->sendString("defgh");
  loop.pump.flush();
  EXPECT_EQ(loop.server->messages, (std::vector<std::string>{"abc"}));
  EXPECT_FALSE(loop.server->connected());
  EXPECT_FALSE(loop.client->connected());
}

// ---- Built by factories ----------------------------------------------------------------

TEST(Loopback, FactoriesBuildBothSides) {
  auto serverFactory = Factory::forProtocol<protocols::Echo>();
  auto clientFactory = ClientFactory::forProtocol<LineLogger>();
  auto loop = connectedServerAndClient<protocols::Echo, LineLogger>(serverFactory, clientFactory);
  EXPECT_EQ(loop.server->factory, serverFactory);
  EXPECT_EQ(loop.client->factory, clientFactory);
  loop.client->sendLine("echoed");
  loop.pump.flush();
  EXPECT_EQ(loop.client->lines, (std::vector<std::string>{"echoed"}));

  EXPECT_THROW((connectedServerAndClient<LineLogger, LineLogger>(serverFactory, clientFactory)), std::logic_error);
}

}  // namespace
}  // namespace torsion::testing
