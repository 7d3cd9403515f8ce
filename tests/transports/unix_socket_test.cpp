// Unix domain stream sockets: echo, stale socket files, removal on stopListening, errors.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <torsion/errors.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/reactor.hpp>

#include <cstring>
#include <string>

#include "reactor_test_support.hpp"

namespace {

using torsion_test::runUntil;

std::string temporarySocketPath(const std::string& tag) {
  return "/tmp/torsion-test-" + tag + "-" + std::to_string(::getpid()) + ".sock";
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

struct Shared {
  std::string received;
  bool made = false;
  bool lost = false;
  std::string lostType;
  std::string failure;
  torsion::Address peer;
};

class Talker : public torsion::Protocol {
 public:
  explicit Talker(Shared* shared) : shared_(shared) {}
  void connectionMade() override {
    shared_->made = true;
    shared_->peer = transport().getPeer();
    transport().write("hello over a unix socket");
  }
  void dataReceived(torsion::Bytes data) override {
    shared_->received.append(data);
    if (shared_->received.size() >= 24) transport().loseConnection();
  }
  void connectionLost(const torsion::Failure& reason) override {
    shared_->lost = true;
    shared_->lostType = reason.typeName();
  }

 private:
  Shared* shared_;
};

class RecordingClientFactory : public torsion::ClientFactory {
 public:
  explicit RecordingClientFactory(Shared* shared) : shared_(shared) {
    protocol = [shared] { return std::make_shared<Talker>(shared); };
  }
  void clientConnectionFailed(torsion::Connector&, const torsion::Failure& reason) override {
    shared_->failure = reason.typeName();
  }

 private:
  Shared* shared_;
};

class UnixSocketTest : public torsion_test::BackendTest {
 protected:
  void SetUp() override {
    path = temporarySocketPath(GetParam());
    ::unlink(path.c_str());
  }
  void TearDown() override { ::unlink(path.c_str()); }

  torsion_test::TestReactor owner_{GetParam()};
  torsion::Reactor& reactor = *owner_;
  std::string path;
};

TEST_P(UnixSocketTest, EchoesAndRemovesTheFileOnStopListening) {
  auto port = reactor.listenUNIX(path, torsion::Factory::forProtocol<torsion::protocols::Echo>());
  EXPECT_EQ(port->getHost().family, torsion::Address::Family::unixSocket);
  EXPECT_EQ(port->getHost().host, path);
  Shared shared;
  auto connector = reactor.connectUNIX(path, std::make_shared<RecordingClientFactory>(&shared));
  ASSERT_TRUE(runUntil(reactor, [&] { return shared.lost; }));
  EXPECT_EQ(shared.received, "hello over a unix socket");
  EXPECT_EQ(shared.lostType, "torsion::ConnectionDone");
  EXPECT_EQ(shared.peer.family, torsion::Address::Family::unixSocket);
  EXPECT_TRUE(exists(path));
  port->stopListening();
  EXPECT_FALSE(exists(path));
}

TEST_P(UnixSocketTest, StaleSocketFileIsReplaced) {
  {  // A server that died without cleaning up leaves its socket file behind.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
  }
  ASSERT_TRUE(exists(path));
  auto port = reactor.listenUNIX(path, torsion::Factory::forProtocol<torsion::protocols::Echo>());
  Shared shared;
  reactor.connectUNIX(path, std::make_shared<RecordingClientFactory>(&shared));
  ASSERT_TRUE(runUntil(reactor, [&] { return shared.lost; }));
  EXPECT_EQ(shared.received, "hello over a unix socket");
}

TEST_P(UnixSocketTest, LiveSocketFileIsInUse) {
  auto port = reactor.listenUNIX(path, torsion::Factory::forProtocol<torsion::protocols::Echo>());
  EXPECT_THROW(reactor.listenUNIX(path, torsion::Factory::forProtocol<torsion::protocols::Echo>()),
               torsion::CannotListenError);
  EXPECT_TRUE(port->listening());
}

TEST_P(UnixSocketTest, TooLongPathIsAClearError) {
  std::string tooLong = "/tmp/" + std::string(200, 'p');
  try {
    reactor.listenUNIX(tooLong, torsion::Factory::forProtocol<torsion::protocols::Echo>());
    FAIL() << "expected CannotListenError";
  } catch (const torsion::CannotListenError& error) {
    EXPECT_NE(std::string(error.what()).find("longer than"), std::string::npos) << error.what();
  }
}

TEST_P(UnixSocketTest, ErrorsNameThePathWithoutAPort) {
  const std::string missingDirectory = path + ".missing/server.sock";
  try {
    reactor.listenUNIX(missingDirectory, torsion::Factory::forProtocol<torsion::protocols::Echo>());
    FAIL() << "expected CannotListenError";
  } catch (const torsion::CannotListenError& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("unix:" + missingDirectory + ": "), std::string::npos) << text;
    EXPECT_EQ(text.find(missingDirectory + ":0"), std::string::npos) << text;
    EXPECT_EQ(error.interface(), missingDirectory);
    EXPECT_EQ(error.port(), 0);
  }
}

TEST_P(UnixSocketTest, ConnectingToNothingFails) {
  Shared shared;
  reactor.connectUNIX(path, std::make_shared<RecordingClientFactory>(&shared));
  ASSERT_TRUE(runUntil(reactor, [&] { return !shared.failure.empty(); }));
  EXPECT_FALSE(shared.made);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(UnixSocketTest);

}  // namespace
