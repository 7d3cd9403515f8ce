// The parsers' performance promises, measured: no allocation per message in steady
// state, and nothing reserved for an announced length beyond the bytes that arrived.
#include <torsion/protocols/basic.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <string>

#include "allocation_counter.hpp"

namespace torsion::protocols {
namespace {

using Counting = torsion_test::AllocationCounter;

// Feeds `stream` (whole messages) twice in reads of `chunk` bytes: the first time
// grows the buffers to what this traffic needs, the second time is measured.
template <class Receiver>
std::size_t allocationsInSteadyState(Receiver& receiver, const std::string& stream, std::size_t chunk) {
  const auto feedAll = [&] {
    for (std::size_t i = 0; i < stream.size(); i += chunk) receiver.dataReceived(Bytes(stream).substr(i, chunk));
  };
  feedAll();
  Counting counter;
  feedAll();
  return counter.count();
}

struct Lines : LineReceiver {
  void lineReceived(Bytes line) override { total += line.size() + 1; }
  std::size_t total = 0;
};

struct Strings32 : Int32StringReceiver {
  void stringReceived(Bytes message) override { total += message.size() + 1; }
  std::size_t total = 0;
};

struct Netstrings : NetstringReceiver {
  void stringReceived(Bytes message) override { total += message.size() + 1; }
  std::size_t total = 0;
};

TEST(Allocation, LineReceiverDoesNotAllocatePerLine) {
  std::string stream;
  for (int i = 0; i < 20000; ++i) stream += "line number " + std::to_string(i) + "\r\n";
  for (std::size_t chunk : {std::size_t{7}, std::size_t{100}, std::size_t{4096}}) {
    Lines receiver;
    auto transport = std::make_shared<testing::StringTransport>();
    transport->makeConnection(receiver);
    EXPECT_EQ(allocationsInSteadyState(receiver, stream, chunk), 0u) << chunk;
    EXPECT_EQ(receiver.total, 2 * (stream.size() - 20000)) << chunk;
  }
}

TEST(Allocation, Int32StringReceiverDoesNotAllocatePerString) {
  std::string stream;
  for (int i = 0; i < 20000; ++i) {
    const std::string message = "message " + std::to_string(i);
    stream += std::string("\0\0\0", 3) + static_cast<char>(message.size()) + message;
  }
  for (std::size_t chunk : {std::size_t{3}, std::size_t{100}, std::size_t{4096}}) {
    Strings32 receiver;
    auto transport = std::make_shared<testing::StringTransport>();
    transport->makeConnection(receiver);
    EXPECT_EQ(allocationsInSteadyState(receiver, stream, chunk), 0u) << chunk;
  }
}

TEST(Allocation, NetstringReceiverDoesNotAllocatePerString) {
  std::string stream;
  for (int i = 0; i < 20000; ++i) {
    const std::string message = "message " + std::to_string(i);
    stream += std::to_string(message.size()) + ":" + message + ",";
  }
  for (std::size_t chunk : {std::size_t{3}, std::size_t{100}, std::size_t{4096}}) {
    Netstrings receiver;
    auto transport = std::make_shared<testing::StringTransport>();
    transport->makeConnection(receiver);
    EXPECT_EQ(allocationsInSteadyState(receiver, stream, chunk), 0u) << chunk;
  }
}

TEST(Allocation, AFourGigabyteAnnouncementCostsOnlyWhatArrives) {
  Strings32 receiver;
  receiver.MAX_LENGTH = SIZE_MAX;  // accepted: the peer may really send it
  auto transport = std::make_shared<testing::StringTransport>();
  transport->makeConnection(receiver);
  {
    Counting counter;
    receiver.dataReceived("\xff\xff\xff\xff");
    receiver.dataReceived("a");
    EXPECT_LT(counter.bytes(), 1024u);
  }
  const std::string chunk(64 * 1024, 'x');
  Counting counter;
  for (int i = 0; i < 16; ++i) receiver.dataReceived(chunk);  // 1 MiB of the 4 GiB
  EXPECT_LT(counter.bytes(), 4u * 1024 * 1024);
  EXPECT_FALSE(transport->disconnecting());
}

TEST(Allocation, AnOversizedStringThatIsSkippedIsNeverBuffered) {
  struct Skipper : Int32StringReceiver {
    void stringReceived(Bytes) override {}
    void lengthLimitExceeded(std::uint64_t) override {}  // keep the connection open
  } receiver;
  auto transport = std::make_shared<testing::StringTransport>();
  transport->makeConnection(receiver);
  receiver.dataReceived("\xff\xff\xff\xff");
  const std::string chunk(64 * 1024, 'x');
  Counting counter;
  for (int i = 0; i < 16; ++i) receiver.dataReceived(chunk);
  EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
}  // namespace torsion::protocols
