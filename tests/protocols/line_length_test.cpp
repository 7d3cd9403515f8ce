// MAX_LENGTH and lineLengthExceeded of LineReceiver, and LineOnlyReceiver.
#include <torsion/protocols/line_receiver.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "receiver_test_support.hpp"

namespace torsion::protocols {
namespace {

using test::connect;
using test::feed;
using test::LogCapture;

// Keeps the connection open and records what lineLengthExceeded gets.
class LongLineCatcher : public LineReceiver {
 public:
  LongLineCatcher() { MAX_LENGTH = 6; }
  void lineReceived(Bytes line) override { lines.emplace_back(line); }
  void lineLengthExceeded(Bytes data) override { longLines.emplace_back(data); }
  std::vector<std::string> lines;
  std::vector<std::string> longLines;
};

// Uses every default: lineLengthExceeded logs and drops the connection.
class Plain : public LineReceiver {
 public:
  void lineReceived(Bytes line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

TEST(LineLength, AnUnendedLongLineIsPassedWhole) {
  LongLineCatcher receiver;
  auto transport = connect(receiver);
  const std::string excessive(14, 'x');
  receiver.dataReceived(excessive);
  EXPECT_EQ(receiver.longLines, std::vector<std::string>{excessive});
  EXPECT_FALSE(transport->disconnecting());
}

TEST(LineLength, ALongLineAfterAShortOneGetsTheBytesAfterTheShortLine) {
  LongLineCatcher receiver;
  auto transport = connect(receiver);
  const std::string excessive(14, 'x');
  receiver.dataReceived("x\r\n" + excessive);
  EXPECT_EQ(receiver.lines, std::vector<std::string>{"x"});
  EXPECT_EQ(receiver.longLines, std::vector<std::string>{excessive});
}

TEST(LineLength, ALongLineWithDelimitersPassesTheWholeRest) {
  LongLineCatcher receiver;
  auto transport = connect(receiver);
  const std::string excessive = std::string(14, 'x') + "\r\n" + std::string(14, 'x') + "\r\n";
  receiver.dataReceived(excessive);
  EXPECT_EQ(receiver.longLines, std::vector<std::string>{excessive});
  EXPECT_TRUE(receiver.lines.empty());
}

TEST(LineLength, ALineOfExactlyMaxLengthIsAccepted) {
  for (std::size_t size = 1; size <= 9; ++size) {
    LongLineCatcher receiver;
    auto transport = connect(receiver);
    feed(receiver, "xxxxxx\r\nyyyyyy\r\n", size);
    EXPECT_EQ(receiver.lines, (std::vector<std::string>{"xxxxxx", "yyyyyy"})) << size;
    EXPECT_TRUE(receiver.longLines.empty()) << size;
  }
}

TEST(LineLength, ALineOneByteTooLongIsRefusedWhateverTheReadSize) {
  for (std::size_t size = 1; size <= 9; ++size) {
    LongLineCatcher receiver;
    auto transport = connect(receiver);
    feed(receiver, "xxxxxxx\r\n", size);
    EXPECT_TRUE(receiver.lines.empty()) << size;
    EXPECT_EQ(receiver.longLines.size(), 1u) << size;
  }
}

TEST(LineLength, DefaultDropsTheConnectionAndLogsWhy) {
  LogCapture logs;
  Plain receiver;
  auto transport = connect(receiver);
  receiver.dataReceived(std::string(receiver.MAX_LENGTH + 1, 'x') + "\r\nr");
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_TRUE(receiver.lines.empty());
  EXPECT_TRUE(logs.contains("line longer than MAX_LENGTH (16384 bytes)"));
  EXPECT_TRUE(logs.contains("192.168.1.1:54321"));
}

TEST(LineLength, DefaultDropsAnUnfinishedLineOnceItCannotFitAnyMore) {
  LogCapture logs;
  Plain receiver;
  auto transport = connect(receiver);
  receiver.dataReceived(std::string(receiver.MAX_LENGTH, 'x') + "\r");
  EXPECT_FALSE(transport->disconnecting()) << "the line may still end with \\n";
  receiver.dataReceived("x");
  EXPECT_TRUE(transport->disconnecting());
}

TEST(LineLength, APartialDelimiterAtTheLimitIsNotMistakenForALongLine) {
  Plain receiver;
  receiver.MAX_LENGTH = 4;
  auto transport = connect(receiver);
  receiver.dataReceived("xxx");
  receiver.dataReceived("\r");
  receiver.dataReceived("\nxxx");
  EXPECT_FALSE(transport->disconnecting());
  EXPECT_EQ(receiver.lines, std::vector<std::string>{"xxx"});
}

TEST(LineLength, AHugeUnendedLineNeverGrowsTheBufferPastTheLimit) {
  Plain receiver;
  receiver.MAX_LENGTH = 100;
  auto transport = connect(receiver);
  for (int i = 0; i < 1000 && !transport->disconnecting(); ++i) receiver.dataReceived("0123456789");
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_TRUE(receiver.clearLineBuffer().empty());
}

// ---------------------------------------------------------------- LineOnlyReceiver

class OnlyLines : public LineOnlyReceiver {
 public:
  OnlyLines() {
    delimiter = "\n";
    MAX_LENGTH = 64;
  }
  void lineReceived(Bytes line) override {
    lines.emplace_back(line);
    if (line == "quit") transport().loseConnection();
  }
  std::vector<std::string> lines;
};

TEST(LineOnlyReceiver, LinesArriveByteByByte) {
  OnlyLines receiver;
  auto transport = connect(receiver);
  feed(receiver, "foo\n    bleakness\n    desolation\n    plastic forks\n    ", 1);
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"foo", "    bleakness", "    desolation", "    plastic forks"}));
}

TEST(LineOnlyReceiver, ALongLineDropsTheConnection) {
  LogCapture logs;
  OnlyLines receiver;
  auto transport = connect(receiver);
  receiver.dataReceived(std::string(66, 'x') + "\nr");
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_TRUE(receiver.lines.empty());
  EXPECT_TRUE(logs.contains("LineOnlyReceiver"));
}

TEST(LineOnlyReceiver, NoLineIsDeliveredAfterLoseConnection) {
  OnlyLines receiver;
  auto transport = connect(receiver);
  receiver.dataReceived("a\nquit\nb\n");
  EXPECT_EQ(receiver.lines, (std::vector<std::string>{"a", "quit"}));
}

TEST(LineOnlyReceiver, SendLineAppendsTheDelimiter) {
  OnlyLines receiver;
  auto transport = connect(receiver);
  receiver.sendLine("hi");
  EXPECT_EQ(transport->value(), "hi\n");
  EXPECT_EQ(transport->writeCalls(), 1u);
}

}  // namespace
}  // namespace torsion::protocols
