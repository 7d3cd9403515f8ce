// Conformance: an exception escaping user code is logged, drops at most the connection it
// belongs to, and leaves the reactor running, on every backend.
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <stdexcept>
#include <string>

#include "conformance_names.hpp"

namespace {

class CallbackErrors : public BackendTest {};

TEST_P(CallbackErrors, InTimersThreadCallsAndTriggersTheLoopGoesOn) {
  LogCapture log;
  std::vector<std::string> ran;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callLater(0, [] { throw std::runtime_error("timer failure"); });
  reactor.callLater(0, [&] { ran.push_back("timer"); });
  reactor.callFromThread([] { throw std::runtime_error("thread call failure"); });
  reactor.callFromThread([&] { ran.push_back("thread call"); });
  reactor.addSystemEventTrigger(torsion::EventPhase::before, "custom", [] { throw 42; });  // not even a std::exception
  reactor.addSystemEventTrigger(torsion::EventPhase::before, "custom", [&] { ran.push_back("trigger"); });
  reactor.fireSystemEvent("custom");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return ran.size() == 3; }, 5, "the calls after the failing ones"));
  EXPECT_TRUE(log.contains("timer failure")) << log.all();
  EXPECT_TRUE(log.contains("thread call failure")) << log.all();
  EXPECT_EQ(log.count("Unhandled exception"), 3) << log.all();
}

// Two connections to a server whose protocol throws on "boom": only the one that said it
// is dropped, with the exception as the reason; the other goes on echoing.
TEST_P(CallbackErrors, InDataReceivedOnlyThatConnectionIsDropped) {
  LogCapture log;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes data) {
      if (data.find("boom") != torsion::Bytes::npos) throw std::runtime_error("boom in dataReceived");
      self.transport().write(data);
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd victim = server.connectRaw();
  Fd survivor = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 2; }, 5, "both accepts"));
  torsion_test::sendAll(victim.get(), "boom");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost() || servers[1].lost(); }, 5, "the drop"));
  std::string victimGot;
  bool victimOpen = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(victimOpen = victimOpen && torsion_test::drain(victim.get(), victimGot)); }, 5,
      "the victim's peer to see the close"));

  torsion_test::sendAll(survivor.get(), "still here?");
  std::string survivorGot;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return torsion_test::drain(survivor.get(), survivorGot) && survivorGot == "still here?"; }, 5,
      "the survivor's echo"));
  auto& dropped = servers[0].lost() ? servers[0] : servers[1];
  auto& kept = servers[0].lost() ? servers[1] : servers[0];
  EXPECT_FALSE(kept.lost());
  EXPECT_EQ(dropped.lostCount, 1);
  ASSERT_TRUE(dropped.lostWith<std::runtime_error>()) << dropped.lostText();
  EXPECT_EQ(dropped.lostReason->getErrorMessage(), "boom in dataReceived");
  EXPECT_TRUE(log.contains("dataReceived")) << log.all();
  EXPECT_TRUE(log.contains("boom in dataReceived")) << log.all();
}

TEST_P(CallbackErrors, InConnectionMadeTheConnectionIsDroppedAndLostOnce) {
  LogCapture log;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onMade = [](ScriptedProtocol& self) {
      self.transport().write("never sent: the connection is dropped");
      throw std::runtime_error("connectionMade failed");
    };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].lost(); }, 5, "the drop"));
  EXPECT_EQ(servers[0].lostCount, 1);
  EXPECT_TRUE(servers[0].lostWith<std::runtime_error>());
  EXPECT_TRUE(log.contains("connectionMade failed")) << log.all();
  EXPECT_TRUE(server.port()->listening());
}

TEST_P(CallbackErrors, InConnectionLostItIsLoggedOnly) {
  LogCapture log;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
    p.onLost = [](ScriptedProtocol&, const torsion::Failure&) { throw std::runtime_error("connectionLost failed"); };
  });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd first = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1; }, 5, "the accept"));
  first.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionDone>());
  EXPECT_EQ(servers[0].lostCount, 1);
  torsion_test::runFor(reactor, 0.02);
  EXPECT_EQ(servers[0].lostCount, 1) << "connectionLost must not be called again for its own exception";
  EXPECT_TRUE(log.contains("connectionLost failed")) << log.all();
  Fd second = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 2; }, 5, "the next accept"));
}

TEST_P(CallbackErrors, InHalfCloseCallbacksTheConnectionIsDropped) {
  LogCapture log;
  Built<ScriptedHalfCloseProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory =
      torsion_test::recordingFactory<ScriptedHalfCloseProtocol>(servers, [&servers](ScriptedHalfCloseProtocol& p) {
        if (servers.size() == 0) {  // the first connection half-closes itself
          p.onMade = [](ScriptedHalfCloseProtocol& self) { self.transport().loseWriteConnection(); };
          p.onWriteLost = [](ScriptedHalfCloseProtocol&) { throw std::runtime_error("writeConnectionLost failed"); };
        } else {  // the second is half-closed by its peer
          p.onReadLost = [](ScriptedHalfCloseProtocol&) { throw std::runtime_error("readConnectionLost failed"); };
        }
      });
  torsion_test::LoopbackServer server(reactor, factory);
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].lost(); }, 5, "the drop"));
  ASSERT_TRUE(servers[0].lostWith<std::runtime_error>()) << servers[0].lostText();
  EXPECT_EQ(servers[0].lostReason->getErrorMessage(), "writeConnectionLost failed");

  Fd second = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 2 && servers[1].made(); }, 5, "the second accept"));
  ASSERT_EQ(::shutdown(second.get(), SHUT_WR), 0);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[1].lost(); }, 5, "the second drop"));
  EXPECT_EQ(servers[1].readLostCount, 1);
  EXPECT_EQ(servers[1].lostCount, 1);
  EXPECT_TRUE(log.contains("readConnectionLost failed")) << log.all();
}

TEST_P(CallbackErrors, InBuildProtocolTheConnectionIsRefusedAndThePortGoesOn) {
  LogCapture log;
  int attempts = 0;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&]() -> std::shared_ptr<torsion::Protocol> {
    if (++attempts == 1) throw std::runtime_error("buildProtocol failed");
    auto protocol = std::make_shared<ScriptedProtocol>();
    servers.all.push_back(protocol);
    return protocol;
  };
  torsion_test::LoopbackServer server(reactor, factory);
  Fd refused = server.connectRaw();
  std::string got;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(refused.get(), got)); }, 5,
      "the refused peer to see the close"));
  EXPECT_TRUE(log.contains("buildProtocol failed")) << log.all();
  Fd accepted = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the next connection"));
}

TEST_P(CallbackErrors, InClientFactoryCallbacksTheyAreLoggedAndTheAttemptGoesOn) {
  LogCapture log;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
        p.onMade = [](ScriptedProtocol& self) { self.transport().loseConnection(); };
      }));
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);
  factory->onStartedConnecting = [](torsion::Connector&) { throw std::runtime_error("startedConnecting failed"); };
  factory->onLost = [](torsion::Connector&, const torsion::Failure&) {
    throw std::runtime_error("clientConnectionLost failed");
  };
  factory->onFailed = [](torsion::Connector&, const torsion::Failure&) {
    throw std::runtime_error("clientConnectionFailed failed");
  };
  server.connect(factory);
  reactor.connectTCP("127.0.0.1", torsion_test::unusedPort(), factory, 5);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->lostCount == 1 && factory->failedCount == 1; }, 5, "one loss and one failure"));
  EXPECT_EQ(clients.size(), 1u);
  EXPECT_TRUE(log.contains("startedConnecting failed")) << log.all();
  EXPECT_TRUE(log.contains("clientConnectionLost failed")) << log.all();
  EXPECT_TRUE(log.contains("clientConnectionFailed failed")) << log.all();
  EXPECT_EQ(factory->started, 1);
  EXPECT_EQ(factory->stopped, 1);
}

// A Selectable of the user's whose doRead throws: removed, told connectionLost, and the
// loop goes on.
class ThrowingReader : public torsion::Selectable {
 public:
  explicit ThrowingReader(int fd) : fd_(fd) {}
  int fileno() const override { return fd_; }
  void doRead() override {
    ++reads;
    throw std::runtime_error("doRead failed");
  }
  void connectionLost(const torsion::Failure& reason) override {
    ++lost;
    lostWithIt = reason.getErrorMessage() == "doRead failed";
  }
  int reads = 0;
  int lost = 0;
  bool lostWithIt = false;

 private:
  int fd_;
};

TEST_P(CallbackErrors, InASelectablesDoReadItIsRemovedAndToldConnectionLost) {
  LogCapture log;
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  Fd reading(pair[0]);
  Fd writing(pair[1]);
  ThrowingReader reader(reading.get());
  bool later = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.addReader(reader);
  torsion_test::sendAll(writing.get(), "x");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return reader.lost == 1; }, 5, "connectionLost"));
  EXPECT_TRUE(reader.lostWithIt);
  reactor.callLater(0.01, [&] { later = true; });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return later; }, 5, "a later timer"));
  EXPECT_EQ(reader.reads, 1) << "a failed selectable is no longer watched, though still readable";
  EXPECT_TRUE(log.contains("doRead failed")) << log.all();
  reactor.removeAll(reader);  // harmless when already removed
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(CallbackErrors);
