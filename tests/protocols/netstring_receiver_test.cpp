#include <torsion/protocols/netstring_receiver.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "receiver_test_support.hpp"

namespace torsion::protocols {
namespace {

using test::connect;
using test::feed;
using test::LogCapture;
using Kind = NetstringParseError::Kind;

class Recorder : public NetstringReceiver {
 public:
  Recorder() { MAX_LENGTH = 50; }
  void stringReceived(Bytes message) override {
    received.emplace_back(message);
    if (message == "quit") transport().loseConnection();
    if (message == "pause") pauseProducing();
  }
  void handleParseError(const NetstringParseError& error) override {
    errors.push_back(error.kind());
    if (!keepOpen) NetstringReceiver::handleParseError(error);
  }
  bool keepOpen = false;
  std::vector<std::string> received;
  std::vector<Kind> errors;
};

struct Fixture : ::testing::Test {
  Recorder receiver;
  std::shared_ptr<testing::StringTransport> transport = connect(receiver);
};

using NetstringReceiverTest = Fixture;

TEST(NetstringReceiver, StringsArriveWhateverTheReadSize) {
  const std::vector<std::string> strings = {"hello", "world", "how", "are", "you123", ":today", std::string(515, 'a')};
  for (std::size_t size = 1; size <= 10; ++size) {
    Recorder receiver;
    receiver.MAX_LENGTH = 699;
    auto transport = connect(receiver);
    for (const auto& s : strings) receiver.sendString(s);
    const std::string out = transport->value();
    feed(receiver, out, size);
    EXPECT_EQ(receiver.received, strings) << size;
  }
}

TEST_F(NetstringReceiverTest, EmptyOneAndTwoCharacterNetstrings) {
  receiver.dataReceived("0:,1:a,2:ab,");
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"", "a", "ab"}));
}

TEST_F(NetstringReceiverTest, ColonsAndCommasInsideThePayloadAreData) {
  receiver.dataReceived("4:1:a,,");
  EXPECT_EQ(receiver.received, std::vector<std::string>{"1:a,"});
}

TEST_F(NetstringReceiverTest, PortionsSplittingTheLength) {
  for (const char* part : {"1", "0:01234", "56789", ","}) receiver.dataReceived(part);
  EXPECT_EQ(receiver.received, std::vector<std::string>{"0123456789"});
}

TEST_F(NetstringReceiverTest, TwoNetstringsInTwoPortions) {
  receiver.dataReceived("1:a,1");
  EXPECT_EQ(receiver.received, std::vector<std::string>{"a"});
  receiver.dataReceived(":b,");
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"a", "b"}));
}

TEST_F(NetstringReceiverTest, SendStringFormatsInOneWrite) {
  receiver.sendString("hello");
  receiver.sendString("");
  EXPECT_EQ(transport->value(), "5:hello,0:,");
  EXPECT_EQ(transport->writeCalls(), 2u);
}

struct BadInput {
  const char* input;
  Kind kind;
};

class NetstringErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(NetstringErrors, AreReportedOnceAndDropTheConnection) {
  for (std::size_t size : {std::size_t{1}, std::size_t{100}}) {
    LogCapture logs;
    Recorder receiver;
    auto transport = connect(receiver);
    feed(receiver, GetParam().input, size);
    EXPECT_TRUE(transport->disconnecting()) << GetParam().input;
    EXPECT_EQ(receiver.errors, std::vector<Kind>{GetParam().kind}) << GetParam().input << " size " << size;
    EXPECT_TRUE(receiver.brokenPeer());
    EXPECT_TRUE(receiver.received.empty());
    EXPECT_TRUE(logs.contains("NetstringReceiver")) << GetParam().input;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NetstringErrors,
    ::testing::Values(BadInput{"9999999999999999999999", Kind::tooLong}, BadInput{"abc", Kind::missingLength},
                      BadInput{"4:abcde", Kind::missingComma},
                      BadInput{"51:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab,", Kind::tooLong},
                      BadInput{"2:aaa,", Kind::missingComma}, BadInput{"0:a,", Kind::missingComma},
                      BadInput{":aaa,", Kind::missingLength}, BadInput{"3aaa,", Kind::missingColon},
                      BadInput{"aaa,", Kind::missingLength}, BadInput{"aaa", Kind::missingLength},
                      BadInput{"01:a,", Kind::leadingZero}, BadInput{"00:,", Kind::leadingZero},
                      BadInput{"-1:a,", Kind::missingLength}, BadInput{" 1:a,", Kind::missingLength}));

TEST_F(NetstringReceiverTest, LengthsUpToMaxLengthAreAcceptedAndOneMoreIsNot) {
  receiver.dataReceived("50:" + std::string(50, 'x') + ",");
  EXPECT_EQ(receiver.received.size(), 1u);
  receiver.keepOpen = true;
  receiver.dataReceived("51:");
  EXPECT_EQ(receiver.errors, std::vector<Kind>{Kind::tooLong});
}

TEST_F(NetstringReceiverTest, ATooLongLengthIsRefusedBeforeThePayloadArrives) {
  receiver.keepOpen = true;
  receiver.dataReceived("51");  // no colon yet: 51 already exceeds 50
  EXPECT_EQ(receiver.errors, std::vector<Kind>{Kind::tooLong});
}

TEST_F(NetstringReceiverTest, AfterAnErrorEverythingIsIgnoredEvenIfTheConnectionStaysOpen) {
  receiver.keepOpen = true;
  receiver.dataReceived("x");
  receiver.dataReceived("1:a,");
  EXPECT_FALSE(transport->disconnecting());
  EXPECT_TRUE(receiver.received.empty());
  EXPECT_EQ(receiver.errors.size(), 1u);
}

TEST_F(NetstringReceiverTest, NoStringIsDeliveredAfterLoseConnection) {
  receiver.dataReceived("1:a,4:quit,1:b,");
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"a", "quit"}));
}

TEST_F(NetstringReceiverTest, PauseHoldsTheFollowingStrings) {
  receiver.dataReceived("5:pause,1:b,");
  EXPECT_EQ(receiver.received, std::vector<std::string>{"pause"});
  receiver.resumeProducing();
  EXPECT_EQ(receiver.received, (std::vector<std::string>{"pause", "b"}));
}

TEST(NetstringReceiver, DefaultMaxLengthIsTwisteds) {
  struct Plain : NetstringReceiver {
    void stringReceived(Bytes) override {}
  } receiver;
  EXPECT_EQ(receiver.MAX_LENGTH, 99999u);
}

TEST(NetstringReceiver, AHugeMaxLengthDoesNotOverflow) {
  Recorder receiver;
  receiver.MAX_LENGTH = SIZE_MAX;
  receiver.keepOpen = true;
  auto transport = connect(receiver);
  receiver.dataReceived("99999999999999999999999999:");  // more than SIZE_MAX
  EXPECT_EQ(receiver.errors, std::vector<Kind>{Kind::tooLong});
}

}  // namespace
}  // namespace torsion::protocols
