#include <torsion/protocols/int_n_string_receiver.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "receiver_test_support.hpp"

namespace torsion::protocols {
namespace {

using test::connect;
using test::feed;
using test::LogCapture;

// Records strings; optionally keeps the connection open on oversized ones.
class Recorder : public IntNStringReceiver {
 public:
  Recorder(std::size_t width, ByteOrder order) : IntNStringReceiver(width, order) { MAX_LENGTH = 50; }
  void stringReceived(Bytes message) override {
    received.emplace_back(message);
    if (message == "quit") transport().loseConnection();
    if (message == "pause") pauseProducing();
  }
  void lengthLimitExceeded(std::uint64_t length) override {
    exceeded.push_back(length);
    if (!keepOpen) IntNStringReceiver::lengthLimitExceeded(length);
  }
  bool keepOpen = false;
  std::vector<std::string> received;
  std::vector<std::uint64_t> exceeded;
};

// Encodes a prefix the way a peer would, independently of the receiver's own code.
std::string prefix(std::uint64_t length, std::size_t width, ByteOrder order) {
  std::string bytes(width, '\0');
  for (std::size_t i = 0; i < width; ++i) {
    const auto byte = static_cast<char>((length >> (8 * i)) & 0xff);
    bytes[order == ByteOrder::network ? width - 1 - i : i] = byte;
  }
  return bytes;
}

class IntNTest : public ::testing::TestWithParam<std::tuple<std::size_t, ByteOrder>> {
 protected:
  std::size_t width() const { return std::get<0>(GetParam()); }
  ByteOrder order() const { return std::get<1>(GetParam()); }
  std::string frame(std::string_view message) const {
    return prefix(message.size(), width(), order()) + std::string(message);
  }
};

TEST_P(IntNTest, StringsArriveWhateverTheReadSize) {
  const std::vector<std::string> strings = {"a", std::string(16, 'b'), "", std::string(50, 'c')};
  std::string stream;
  for (const auto& s : strings) stream += frame(s);
  for (std::size_t size = 1; size <= 12; ++size) {
    Recorder receiver(width(), order());
    auto transport = connect(receiver);
    feed(receiver, stream, size);
    EXPECT_EQ(receiver.received, strings) << size;
  }
}

TEST_P(IntNTest, PartialInputDeliversNothing) {
  for (std::string partial : {prefix(5, width(), order()), prefix(5, width(), order()) + "abcd", std::string()}) {
    Recorder receiver(width(), order());
    auto transport = connect(receiver);
    feed(receiver, partial, 1);
    EXPECT_TRUE(receiver.received.empty());
  }
}

TEST_P(IntNTest, SendStringPrefixesTheLengthInOneWrite) {
  Recorder receiver(width(), order());
  auto transport = connect(receiver);
  receiver.sendString(std::string(16, 'b'));
  EXPECT_EQ(transport->value(), frame(std::string(16, 'b')));
  EXPECT_EQ(transport->writeCalls(), 1u);
}

TEST_P(IntNTest, LengthLimitExceededGetsTheAnnouncedLength) {
  Recorder receiver(width(), order());
  receiver.keepOpen = true;
  receiver.MAX_LENGTH = 10;
  auto transport = connect(receiver);
  receiver.dataReceived(prefix(11, width(), order()));
  EXPECT_EQ(receiver.exceeded, std::vector<std::uint64_t>{11});
}

TEST_P(IntNTest, ALongStringIsNotDeliveredAndTheDefaultDropsTheConnection) {
  LogCapture logs;
  Recorder receiver(width(), order());
  receiver.MAX_LENGTH = 10;
  auto transport = connect(receiver);
  receiver.dataReceived(frame(std::string(11, 'x')) + frame("after"));
  EXPECT_TRUE(receiver.received.empty());
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_TRUE(logs.contains("announced a 11-byte string, more than MAX_LENGTH (10 bytes)"));
}

TEST_P(IntNTest, AStringOfExactlyMaxLengthIsAccepted) {
  Recorder receiver(width(), order());
  receiver.MAX_LENGTH = 10;
  auto transport = connect(receiver);
  receiver.dataReceived(frame(std::string(10, 'x')));
  EXPECT_EQ(receiver.received, std::vector<std::string>{std::string(10, 'x')});
  EXPECT_FALSE(transport->disconnecting());
}

// Twisted re-parses its whole buffer after a lengthLimitExceeded that keeps the
// connection open, delivering earlier strings again; torsion skips the refused string.
TEST_P(IntNTest, KeepingTheConnectionOpenSkipsTheLongStringAndNeverRedelivers) {
  const std::string stream = frame("first") + frame(std::string(20, 'x')) + frame("second");
  for (std::size_t size = 1; size <= stream.size(); ++size) {
    Recorder receiver(width(), order());
    receiver.keepOpen = true;
    receiver.MAX_LENGTH = 10;
    auto transport = connect(receiver);
    feed(receiver, stream, size);
    EXPECT_EQ(receiver.received, (std::vector<std::string>{"first", "second"})) << size;
    EXPECT_EQ(receiver.exceeded, std::vector<std::uint64_t>{20}) << size;
  }
}

TEST_P(IntNTest, NoStringIsDeliveredAfterLoseConnection) {
  Recorder receiver(width(), order());
  auto transport = connect(receiver);
  receiver.dataReceived(frame("a") + frame("quit") + frame("b"));
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"a", "quit"}));
}

TEST_P(IntNTest, PauseHoldsTheFollowingStringsUntilResume) {
  Recorder receiver(width(), order());
  auto transport = connect(receiver);
  receiver.dataReceived(frame("pause") + frame("b") + frame("c"));
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"pause"}));
  EXPECT_EQ(transport->producerState(), testing::StringTransport::ProducerState::paused);
  receiver.resumeProducing();
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"pause", "b", "c"}));
}

INSTANTIATE_TEST_SUITE_P(Widths, IntNTest,
                         ::testing::Combine(::testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{4},
                                                              std::size_t{8}),
                                            ::testing::Values(ByteOrder::network, ByteOrder::little)));

TEST(IntNStringReceiver, Int32UsesNetworkByteOrder) {
  struct R : Int32StringReceiver {
    void stringReceived(Bytes m) override { got.emplace_back(m); }
    std::vector<std::string> got;
  } receiver;
  auto transport = connect(receiver);
  receiver.sendString("foo");
  EXPECT_EQ(transport->value(), std::string("\x00\x00\x00\x03"
                                            "foo",
                                            7));
  receiver.dataReceived(
      std::string("\x00\x00\x00\x04"
                  "ubar",
                  8));
  EXPECT_EQ(receiver.got, std::vector<std::string>{"ubar"});
  EXPECT_EQ(receiver.MAX_LENGTH, 99999u);
}

TEST(IntNStringReceiver, Int16AndInt8Prefixes) {
  struct R16 : Int16StringReceiver {
    void stringReceived(Bytes) override {}
  } r16;
  struct R8 : Int8StringReceiver {
    void stringReceived(Bytes) override {}
  } r8;
  auto t16 = connect(r16);
  auto t8 = connect(r8);
  r16.sendString("foo");
  r8.sendString("foo");
  EXPECT_EQ(t16->value(), std::string("\x00\x03"
                                      "foo",
                                      5));
  EXPECT_EQ(t8->value(),
            "\x03"
            "foo");
  EXPECT_EQ(r16.prefixLength(), 2u);
  EXPECT_EQ(r8.maxPrefixValue(), 255u);
}

TEST(IntNStringReceiver, LittleEndianInt32) {
  struct R : Int32StringReceiver {
    R() : Int32StringReceiver(ByteOrder::little) {}
    void stringReceived(Bytes) override {}
  } receiver;
  auto transport = connect(receiver);
  receiver.sendString("foo");
  EXPECT_EQ(transport->value(), std::string("\x03\x00\x00\x00"
                                            "foo",
                                            7));
}

TEST(IntNStringReceiver, TooLongToSendThrowsAndSendsNothing) {
  struct R8 : Int8StringReceiver {
    void stringReceived(Bytes) override {}
  } r8;
  struct R16 : Int16StringReceiver {
    void stringReceived(Bytes) override {}
  } r16;
  auto t8 = connect(r8);
  auto t16 = connect(r16);
  EXPECT_NO_THROW(r8.sendString(std::string(255, 'b')));
  t8->clear();
  EXPECT_THROW(r8.sendString(std::string(256, 'b')), StringTooLongError);
  EXPECT_THROW(r16.sendString(std::string(65536, 'b')), StringTooLongError);
  EXPECT_EQ(t8->value(), "");
  EXPECT_EQ(t16->value(), "");
}

TEST(IntNStringReceiver, APrefixWidthOutsideOneToEightIsRefused) {
  struct R : IntNStringReceiver {
    using IntNStringReceiver::IntNStringReceiver;
    void stringReceived(Bytes) override {}
  };
  EXPECT_THROW(R(0), std::invalid_argument);
  EXPECT_THROW(R(9), std::invalid_argument);
  EXPECT_NO_THROW(R(3));
}

TEST(IntNStringReceiver, AFourGigabyteAnnouncementCostsNothingUntilTheBytesArrive) {
  struct R : Int32StringReceiver {
    void stringReceived(Bytes m) override { got.emplace_back(m); }
    std::vector<std::string> got;
  } receiver;
  receiver.MAX_LENGTH = SIZE_MAX;  // accept it: the bytes are collected only as they come
  auto transport = connect(receiver);
  receiver.dataReceived(
      "\xff\xff\xff\xff"
      "abc");
  EXPECT_TRUE(receiver.got.empty());
  EXPECT_FALSE(transport->disconnecting());
  // What the buffer holds is what arrived, not what was announced (see also the
  // allocation test, which measures it).
  receiver.pauseProducing();
  EXPECT_TRUE(receiver.got.empty());
}

}  // namespace
}  // namespace torsion::protocols
