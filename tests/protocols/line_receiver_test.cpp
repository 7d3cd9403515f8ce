#include <torsion/protocols/line_receiver.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "receiver_test_support.hpp"

namespace torsion::protocols {
namespace {

using test::connect;
using test::feed;
using testing::Clock;
using testing::StringTransport;

// A receiver driven by the lines it gets, as in Twisted's own tests: "len N" announces N
// raw bytes, an empty line switches to raw mode, "pause" and "rawpause" pause until the
// clock runs, "stop" stops producing for good.
class ScriptedReceiver : public LineReceiver {
 public:
  explicit ScriptedReceiver(Clock* clock = nullptr) : clock_(clock) {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }

  void lineReceived(Bytes line) override {
    received.emplace_back(line);
    if (line.empty()) {
      setRawMode();
    } else if (line == "pause") {
      pauseProducing();
      clock_->callLater(0, [this] { resumeProducing(); });
    } else if (line == "rawpause") {
      pauseProducing();
      setRawMode();
      received.emplace_back();
      clock_->callLater(0, [this] { resumeProducing(); });
    } else if (line == "stop") {
      stopProducing();
    } else if (line.substr(0, 4) == "len ") {
      std::from_chars(line.data() + 4, line.data() + line.size(), length_);
    }
  }

  void rawDataReceived(Bytes data) override {
    const std::size_t take = std::min(length_, data.size());
    received.back().append(data.substr(0, take));
    length_ -= take;
    if (length_ == 0) setLineMode(data.substr(take));
  }

  void lineLengthExceeded(Bytes line) override {
    if (line.size() > MAX_LENGTH + 1) setLineMode(line.substr(MAX_LENGTH + 1));
  }

  std::vector<std::string> received;

 private:
  Clock* clock_;
  std::size_t length_ = 0;
};

constexpr std::string_view kScript =
    "len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n"
    "1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na";

const std::vector<std::string> kScriptOutput = {
    "len 10", "0123456789", "len 5", "1234\n", "len 20", "foo 123", "0123456789\n012345678",
    "len 0",  "foo 5",      "",      "67890",  "len 1",  "a",
};

TEST(LineReceiver, ModeSwitchesGiveTheSameResultForAnyReadSize) {
  for (std::size_t size = 1; size <= 10; ++size) {
    ScriptedReceiver receiver;
    auto transport = connect(receiver);
    feed(receiver, kScript, size);
    EXPECT_EQ(receiver.received, kScriptOutput) << "read size " << size;
  }
  ScriptedReceiver whole;
  auto transport = connect(whole);
  whole.dataReceived(kScript);
  EXPECT_EQ(whole.received, kScriptOutput);
}

TEST(LineReceiver, PauseInsideLineReceivedHoldsTheFollowingLines) {
  for (std::size_t size = 1; size <= 10; ++size) {
    Clock clock;
    ScriptedReceiver receiver(&clock);
    auto transport = connect(receiver);
    feed(receiver, "twiddle1\ntwiddle2\npause\ntwiddle3\n", size);
    EXPECT_EQ(receiver.received, (std::vector<std::string>{"twiddle1", "twiddle2", "pause"})) << size;
    EXPECT_EQ(transport->producerState(), StringTransport::ProducerState::paused);
    clock.advance(0);
    EXPECT_EQ(receiver.received, (std::vector<std::string>{"twiddle1", "twiddle2", "pause", "twiddle3"})) << size;
    EXPECT_EQ(transport->producerState(), StringTransport::ProducerState::producing);
  }
}

TEST(LineReceiver, PauseWithRawModeHoldsTheRawData) {
  for (std::size_t size = 1; size <= 10; ++size) {
    Clock clock;
    ScriptedReceiver receiver(&clock);
    auto transport = connect(receiver);
    feed(receiver, "twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n", size);
    EXPECT_EQ(receiver.received, (std::vector<std::string>{"twiddle1", "twiddle2", "len 5", "rawpause", ""})) << size;
    clock.advance(0);
    EXPECT_EQ(receiver.received,
              (std::vector<std::string>{"twiddle1", "twiddle2", "len 5", "rawpause", "12345", "twiddle3"}))
        << size;
  }
}

TEST(LineReceiver, StopProducingDeliversNothingMore) {
  for (std::size_t size = 1; size <= 10; ++size) {
    ScriptedReceiver receiver;
    auto transport = connect(receiver);
    feed(receiver, "twiddle1\ntwiddle2\nstop\nmore\nstuff\n", size);
    EXPECT_EQ(receiver.received, (std::vector<std::string>{"twiddle1", "twiddle2", "stop"})) << size;
    EXPECT_EQ(transport->producerState(), StringTransport::ProducerState::stopped);
  }
}

// Pauses after each line, like a consumer that wants one line at a time.
class OneAtATime : public LineReceiver {
 public:
  void lineReceived(Bytes line) override {
    transport().write(line);
    pauseProducing();
  }
};

TEST(LineReceiver, ResumeDeliversOneBufferedLineAtATime) {
  OneAtATime receiver;
  auto transport = connect(receiver);
  receiver.dataReceived("hello, ");
  EXPECT_EQ(transport->value(), "");
  EXPECT_FALSE(receiver.paused());
  receiver.dataReceived("world\r\n");
  EXPECT_EQ(transport->value(), "hello, world");
  EXPECT_TRUE(receiver.paused());
  receiver.resumeProducing();
  EXPECT_EQ(transport->value(), "hello, world");
  EXPECT_FALSE(receiver.paused());
  receiver.dataReceived("hello\r\nworld\r\n");
  EXPECT_EQ(transport->value(), "hello, worldhello");
  receiver.resumeProducing();
  EXPECT_EQ(transport->value(), "hello, worldhelloworld");
  EXPECT_TRUE(receiver.paused());
  receiver.dataReceived("goodbye\r\n");
  EXPECT_EQ(transport->value(), "hello, worldhelloworld");
  receiver.resumeProducing();
  EXPECT_EQ(transport->value(), "hello, worldhelloworldgoodbye");
  receiver.resumeProducing();
  EXPECT_FALSE(receiver.paused());
}

// Records lines; closes or aborts on request.
class Recorder : public LineReceiver {
 public:
  void lineReceived(Bytes line) override {
    lines.emplace_back(line);
    if (line == "quit") transport().loseConnection();
    if (line == "abort") transport().abortConnection();
    if (line == "clear") rest = clearLineBuffer();
    if (line == "again") dataReceived("inner\r\n");
    if (line == "raw") setRawMode();
    if (line == "throw") throw std::runtime_error("boom");
  }
  void rawDataReceived(Bytes data) override { raw += data; }
  std::vector<std::string> lines;
  std::string raw;
  std::string rest;
};

TEST(LineReceiver, NoLineIsDeliveredAfterLoseConnectionInsideLineReceived) {
  Recorder receiver;
  auto transport = connect(receiver);
  receiver.dataReceived("one\r\nquit\r\ntwo\r\nthree\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"one", "quit"}));
  EXPECT_TRUE(transport->disconnecting());
  receiver.dataReceived("four\r\n");
  EXPECT_EQ(receiver.lines.size(), 2u);
}

TEST(LineReceiver, NoLineIsDeliveredAfterAbortConnectionInsideLineReceived) {
  Recorder receiver;
  auto transport = connect(receiver);
  receiver.dataReceived("abort\r\ntwo\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"abort"}));
  EXPECT_TRUE(transport->aborted());
}

TEST(LineReceiver, ClearLineBufferInsideLineReceivedReturnsTheRest) {
  Recorder receiver;  // works without a transport, as in Twisted
  receiver.dataReceived("clear\r\nbar\r\nbaz");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"clear"}));
  EXPECT_EQ(receiver.rest, "bar\r\nbaz");
  receiver.dataReceived("quux\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"clear", "quux"}));
}

TEST(LineReceiver, ClearLineBufferOutsideReturnsThePartialLine) {
  Recorder receiver;
  receiver.dataReceived("a\r\npartial");
  EXPECT_EQ(receiver.clearLineBuffer(), "partial");
  receiver.dataReceived("b\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"a", "b"}));
}

TEST(LineReceiver, DataReceivedFromInsideIsParsedAfterTheCurrentData) {
  Recorder receiver;
  receiver.dataReceived("again\r\nnext\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"again", "next", "inner"}));
}

TEST(LineReceiver, RawModeGetsTheRestOfTheSameRead) {
  Recorder receiver;
  receiver.dataReceived("a\r\nraw\r\nb\r\nc");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"a", "raw"}));
  EXPECT_EQ(receiver.raw, "b\r\nc");
  receiver.dataReceived("more");
  EXPECT_EQ(receiver.raw, "b\r\ncmore");
  EXPECT_FALSE(receiver.lineMode());
}

TEST(LineReceiver, SetRawModeOutsideSendsThePartialLineToRaw) {
  Recorder receiver;
  receiver.dataReceived("partial");
  receiver.setRawMode();
  receiver.dataReceived("!");
  EXPECT_EQ(receiver.raw, "partial!");
}

TEST(LineReceiver, SetLineModeOutsideParsesTheExtraBytes) {
  Recorder receiver;
  receiver.setRawMode();
  receiver.setLineMode("x\r\ny");
  receiver.dataReceived("\r\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"x", "y"}));
}

TEST(LineReceiver, AnExceptionLeavesTheFollowingLinesBuffered) {
  Recorder receiver;
  EXPECT_THROW(receiver.dataReceived("throw\r\nafter\r\n"), std::runtime_error);
  receiver.dataReceived("");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"throw", "after"}));
}

// Flips to raw mode after each line and back after one byte: the stack must not grow.
class Flipper : public LineReceiver {
 public:
  Flipper() { delimiter = "\n"; }
  void lineReceived(Bytes line) override {
    joined += line;
    setRawMode();
  }
  void rawDataReceived(Bytes data) override { setLineMode(data.substr(1)); }
  std::string joined;
};

TEST(LineReceiver, ManyModeSwitchesInOneReadDoNotRecurse) {
  constexpr std::size_t kCount = 20000;
  std::string data;
  for (std::size_t i = 0; i < kCount; ++i) data += "x\nx";
  Flipper receiver;
  receiver.dataReceived(data);
  EXPECT_EQ(receiver.joined, std::string(kCount, 'x'));
}

TEST(LineReceiver, SendLineWritesLineAndDelimiterInOneWrite) {
  Recorder receiver;
  auto transport = connect(receiver);
  receiver.sendLine("hello");
  receiver.delimiter = "\n";
  receiver.sendLine("");
  EXPECT_EQ(transport->value(), "hello\r\n\n");
  EXPECT_EQ(transport->writeCalls(), 2u);
}

TEST(LineReceiver, AnyDelimiterWorksEvenSplitAcrossReads) {
  for (std::size_t size = 1; size <= 7; ++size) {
    Recorder receiver;
    receiver.delimiter = "<END>";
    feed(receiver, "a<EN<END>b<END><END>c<E", size);
    EXPECT_EQ(receiver.lines, (std::vector<std::string>{"a<EN", "b", ""})) << size;
  }
}

TEST(LineReceiver, ChangingTheDelimiterBetweenReadsRescansThePartialLine) {
  Recorder receiver;
  receiver.delimiter = "\r\n";
  receiver.dataReceived("abc\n");  // no "\r\n" yet
  receiver.delimiter = "\n";
  receiver.dataReceived("d\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"abc", "d"}));
}

TEST(LineReceiver, AnEmptyDelimiterIsAnError) {
  Recorder receiver;
  receiver.delimiter = "";
  EXPECT_THROW(receiver.dataReceived("abc"), std::invalid_argument);
}

TEST(LineReceiver, RawDataReceivedWithoutOverrideThrows) {
  class LinesOnly : public LineReceiver {
    void lineReceived(Bytes) override {}
  } receiver;
  receiver.setRawMode();
  EXPECT_THROW(receiver.dataReceived("x"), std::logic_error);
}

TEST(LineReceiver, LinesOfACompleteReadAreViewsIntoIt) {
  class Views : public LineReceiver {
   public:
    void lineReceived(Bytes line) override { views.push_back(line); }
    std::vector<Bytes> views;
  } receiver;
  const std::string data = "first\r\nsecond\r\n";
  receiver.dataReceived(data);
  ASSERT_EQ(receiver.views.size(), 2u);
  EXPECT_EQ(receiver.views[0].data(), data.data());
  EXPECT_EQ(receiver.views[1].data(), data.data() + 7);
}

}  // namespace
}  // namespace torsion::protocols
