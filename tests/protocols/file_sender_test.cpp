// FileSender streams a file through a real connection with back-pressure.
#include <gtest/gtest.h>
#include <torsion/protocols/file_sender.hpp>
#include <torsion/protocols/int_n_string_receiver.hpp>
#include <torsion/reactor.hpp>

#include <random>
#include <sstream>
#include <stdexcept>

#include "loopback_server.hpp"
#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

std::string randomBytes(std::size_t size) {
  std::mt19937 generator(1234);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

struct Transfer {
  std::string content;
  std::uint64_t reportedSent = 0;
  std::string failure;
  bool finished = false;
};

// Each chunk as an Int32StringReceiver message: a 4-byte big-endian length, then the chunk.
std::string int32Frame(torsion::Bytes chunk) {
  std::string message(4, '\0');
  for (int i = 0; i < 4; ++i) message[static_cast<std::size_t>(i)] = static_cast<char>(chunk.size() >> (24 - 8 * i));
  message.append(chunk.data(), chunk.size());
  return message;
}

class Sending : public torsion::Protocol {
 public:
  explicit Sending(Transfer* transfer, torsion::protocols::FileSender::Transform transform = nullptr)
      : transfer_(transfer), transform_(std::move(transform)) {}
  void connectionMade() override {
    sender_ = std::make_shared<torsion::protocols::FileSender>();
    sender_->beginFileTransfer(std::make_shared<std::istringstream>(transfer_->content), transport(), transform_)
        .addCallback(whileConnected([this](std::uint64_t sent) {
          transfer_->reportedSent = sent;
          transfer_->finished = true;
          transport().loseConnection();
        }))
        .addErrback(whileConnected([this](const torsion::Failure& f) {
          transfer_->failure = f.getErrorMessage();
          transfer_->finished = true;
          transport().loseConnection();  // does nothing if the connection is already gone
        }));
  }
  void dataReceived(torsion::Bytes) override {}

 private:
  Transfer* transfer_;
  torsion::protocols::FileSender::Transform transform_;
  std::shared_ptr<torsion::protocols::FileSender> sender_;
};

class ReceivingFrames : public torsion::protocols::Int32StringReceiver {
 public:
  ReceivingFrames(std::string* into, std::size_t* messages, bool* closed)
      : into_(into), messages_(messages), closed_(closed) {}
  void stringReceived(torsion::Bytes message) override {
    into_->append(message.data(), message.size());
    ++*messages_;
  }
  void connectionLost(const torsion::Failure&) override { *closed_ = true; }

 private:
  std::string* into_;
  std::size_t* messages_;
  bool* closed_;
};

class Receiving : public torsion::Protocol {
 public:
  Receiving(std::string* into, bool* closed) : into_(into), closed_(closed) {}
  void dataReceived(torsion::Bytes data) override { into_->append(data); }
  void connectionLost(const torsion::Failure&) override { *closed_ = true; }

 private:
  std::string* into_;
  bool* closed_;
};

class FileSenderTest : public torsion_test::BackendTest {
 protected:
  torsion_test::TestReactor owner_{GetParam()};
  torsion::Reactor& reactor = *owner_;
};

TEST_P(FileSenderTest, StreamsAWholeFileByteExact) {
  Transfer transfer;
  transfer.content = randomBytes(3 * 1024 * 1024 + 123);
  auto serverFactory = std::make_shared<torsion::Factory>();
  serverFactory->protocol = [&] { return std::make_shared<Sending>(&transfer); };
  torsion_test::LoopbackServer server(reactor, serverFactory);

  std::string received;
  bool closed = false;
  auto clientFactory = std::make_shared<torsion::ClientFactory>();
  clientFactory->protocol = [&] { return std::make_shared<Receiving>(&received, &closed); };
  server.connect(clientFactory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return closed; }, 30));
  EXPECT_TRUE(transfer.failure.empty()) << transfer.failure;
  EXPECT_EQ(transfer.reportedSent, transfer.content.size());
  EXPECT_EQ(received.size(), transfer.content.size());
  EXPECT_TRUE(received == transfer.content);
}

TEST_P(FileSenderTest, LostConnectionFailsTheTransfer) {
  Transfer transfer;
  transfer.content.assign(32 * 1024 * 1024, 'x');  // far more than the socket buffers hold
  auto serverFactory = std::make_shared<torsion::Factory>();
  serverFactory->protocol = [&] { return std::make_shared<Sending>(&transfer); };
  torsion_test::LoopbackServer server(reactor, serverFactory);

  // A client that hangs up after the first bytes.
  struct HangUp : torsion::Protocol {
    void dataReceived(torsion::Bytes) override { transport().abortConnection(); }
  };
  server.connect(torsion::ClientFactory::forProtocol<HangUp>());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return transfer.finished; }, 30));
  EXPECT_NE(transfer.failure.find("stop producing"), std::string::npos) << transfer.failure;
}

TEST_P(FileSenderTest, ATransformFramesEachChunkAsAnInt32String) {
  Transfer transfer;
  transfer.content = randomBytes(3 * 1024 * 1024 + 5);  // 193 chunks, the last one 5 bytes
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<Sending>(&transfer, int32Frame));

  std::string received;
  std::size_t messages = 0;
  bool closed = false;
  server.connect(torsion::ClientFactory::forProtocol<ReceivingFrames>(&received, &messages, &closed));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return closed; }, 60));
  EXPECT_TRUE(transfer.failure.empty()) << transfer.failure;
  EXPECT_EQ(transfer.reportedSent, transfer.content.size());  // bytes read, before framing
  constexpr std::size_t chunk = torsion::protocols::FileSender::CHUNK_SIZE;
  EXPECT_EQ(messages, (transfer.content.size() + chunk - 1) / chunk);
  EXPECT_EQ(received.size(), transfer.content.size());
  EXPECT_TRUE(received == transfer.content);
}

TEST_P(FileSenderTest, ATransformThatThrowsFailsTheTransfer) {
  Transfer transfer;
  transfer.content.assign(100 * 1024, 'x');
  int chunks = 0;
  auto failSecond = [&chunks](torsion::Bytes chunk) {
    if (++chunks == 2) throw std::runtime_error("no second chunk");
    return std::string(chunk.data(), chunk.size());
  };
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<Sending>(&transfer, failSecond));
  std::string received;
  bool closed = false;
  server.connect(torsion::ClientFactory::forProtocol<Receiving>(&received, &closed));
  // Both ends close before the test's locals go: the fixture's reactor outlives them.
  ASSERT_TRUE(runUntil(
      reactor, [&] { return transfer.finished && closed; }, 30));
  EXPECT_EQ(transfer.failure, "no second chunk");
  EXPECT_EQ(chunks, 2);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(FileSenderTest);

}  // namespace
