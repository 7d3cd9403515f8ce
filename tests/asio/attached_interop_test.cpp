// The asio backend inside a user-owned io_context: Asio and torsion work side by side on
// one thread, driven by io_context::run() alone.
#include <torsion/asio_reactor.hpp>

#include <gtest/gtest.h>
#include <torsion/factory.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/reactor.hpp>
#include <torsion/selectable.hpp>

#include <asio.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "asio_test_support.hpp"

namespace {

using asio_test::Exchange;
using asio_test::SayOnce;

TEST(AsioBackend, IsAvailableAfterTheNativeBackendsAndNeverTheDefault) {
  const auto names = torsion::Reactor::availableBackends();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "asio");
  EXPECT_NE(torsion::Reactor::defaultBackend(), "asio");
  torsion::Reactor reactor("asio");
  EXPECT_EQ(reactor.backendName(), "asio");
}

TEST(AttachedReactor, ItsBackendIsAsio) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  EXPECT_EQ(reactor->backendName(), "asio");
  EXPECT_FALSE(reactor->running()) << "it starts when the io_context runs";
}

// The whole point: an Asio timer, an Asio acceptor with Asio and torsion clients, a
// torsion echo server with torsion and Asio clients, all on this thread, all driven by
// one io_context.run().
TEST(AttachedReactor, AsioAndTorsionShareOneThreadAndOneRun) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  const auto self = std::this_thread::get_id();

  Exchange torsionToTorsion{"torsion -> torsion"};
  Exchange torsionToAsio{"torsion -> asio"};
  Exchange asioToTorsion{"asio -> torsion"};
  Exchange asioToAsio{"asio -> asio"};
  int finished = 0;
  int ticks = 0;
  bool tickOnOtherThread = false;
  bool shutdownFired = false;

  asio_test::AsioEchoServer asioServer(context);
  asio::steady_timer ticker(context);
  std::function<void()> maybeFinish = [&] {
    if (finished < 4 || ticks < 3 || !reactor->running()) return;
    // Everything answered and the timer ticked: stop torsion and end our own work, so
    // that run() returns.
    reactor->stop();
    ticker.cancel();
    asioServer.close();
  };
  std::function<void()> tick = [&] {
    ticker.expires_after(std::chrono::milliseconds(5));
    ticker.async_wait([&](asio::error_code error) {
      if (error) return;
      ++ticks;
      if (std::this_thread::get_id() != self) tickOnOtherThread = true;
      tick();
      maybeFinish();
    });
  };
  tick();

  std::function<void()> onDone = [&] {
    ++finished;
    maybeFinish();
  };
  reactor->addSystemEventTrigger(torsion::EventPhase::during, "shutdown", [&] { shutdownFired = true; });

  auto torsionServer =
      reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::protocols::Echo>(), 50, "127.0.0.1");
  const std::uint16_t torsionPort = torsionServer->getHost().port;
  reactor->connectTCP("127.0.0.1", torsionPort,
                      torsion::ClientFactory::forProtocol<SayOnce>(&torsionToTorsion, &onDone));
  reactor->connectTCP("127.0.0.1", asioServer.port(),
                      torsion::ClientFactory::forProtocol<SayOnce>(&torsionToAsio, &onDone));
  asio_test::asioSayOnce(context, torsionPort, asioToTorsion, onDone);
  asio_test::asioSayOnce(context, asioServer.port(), asioToAsio, onDone);

  const double took = asio_test::runBounded(context, 10);
  EXPECT_LT(took, 5) << "run() should return once both worlds are done";
  for (const Exchange* exchange : {&torsionToTorsion, &torsionToAsio, &asioToTorsion, &asioToAsio}) {
    EXPECT_TRUE(exchange->done) << exchange->sent << ": " << exchange->error;
    EXPECT_EQ(exchange->received, exchange->sent);
    EXPECT_EQ(exchange->thread, self) << exchange->sent;
  }
  EXPECT_GE(ticks, 3);
  EXPECT_FALSE(tickOnOtherThread);
  EXPECT_EQ(asioServer.accepted(), 2);
  EXPECT_TRUE(shutdownFired);
  EXPECT_FALSE(reactor->running());
}

TEST(AttachedReactor, TimersSetFromAsioHandlersFireOnTime) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  double setAt = 0;
  double firedAt = 0;
  asio::steady_timer user(context, std::chrono::milliseconds(20));
  user.async_wait([&](asio::error_code) {
    // Outside any torsion pass: the reactor must move its wake-up for this.
    setAt = asio_test::now();
    reactor->callLater(0.05, [&] {
      firedAt = asio_test::now();
      reactor->stop();
    });
  });
  asio_test::runBounded(context, 10);
  ASSERT_GT(firedAt, 0) << "the torsion timer never fired";
  EXPECT_GE(firedAt - setAt, 0.045);
  EXPECT_LT(firedAt - setAt, 1.0);
}

TEST(AttachedReactor, ACloseAskedFromAnAsioHandlerHappensAtOnce) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  bool serverLost = false;
  double closeAt = 0;

  class Server : public torsion::Protocol {
   public:
    Server(asio::io_context* c, bool* lost, double* at, torsion::Reactor* r)
        : context_(c), lost_(lost), at_(at), reactor_(r) {}
    void connectionMade() override {
      // From an Asio handler, well outside torsion's pass, close this connection.
      asio::post(*context_, [this] {  // the connection (and so this) lives until the close
        *at_ = asio_test::now();
        transport().loseConnection();
      });
    }
    void connectionLost(const torsion::Failure&) override {
      *lost_ = true;
      reactor_->stop();
    }

   private:
    asio::io_context* context_;
    bool* lost_;
    double* at_;
    torsion::Reactor* reactor_;
  };
  auto port = reactor->listenTCP(
      0, torsion::Factory::forProtocol<Server>(&context, &serverLost, &closeAt, reactor.get()), 50, "127.0.0.1");
  asio::ip::tcp::socket client(context);
  client.connect({asio::ip::make_address("127.0.0.1"), port->getHost().port});
  const double took = asio_test::runBounded(context, 10);
  EXPECT_TRUE(serverLost);
  EXPECT_GT(closeAt, 0);
  EXPECT_LT(took, 5);
}

TEST(AttachedReactor, CallFromThreadRunsOnTheIoContextThread) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::thread::id ranOn;
  std::thread other;
  reactor->callWhenRunning([&] {
    other = std::thread([&] {
      reactor->callFromThread([&] {
        ranOn = std::this_thread::get_id();
        reactor->stop();
      });
    });
  });
  const double took = asio_test::runBounded(context, 10);
  other.join();
  EXPECT_EQ(ranOn, std::this_thread::get_id());
  EXPECT_LT(took, 5);
}

TEST(AttachedReactor, IterateRunsTheIoContextToo) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  bool asioFired = false;
  asio::steady_timer user(context, std::chrono::milliseconds(10));
  user.async_wait([&](asio::error_code error) { asioFired = !error; });
  Exchange exchange{"iterated"};
  auto port = reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::protocols::Echo>(), 50, "127.0.0.1");
  reactor->connectTCP("127.0.0.1", port->getHost().port, torsion::ClientFactory::forProtocol<SayOnce>(&exchange));
  const double deadline = asio_test::now() + 10;
  while (!(asioFired && exchange.done) && asio_test::now() < deadline) reactor->iterate(0.01);
  EXPECT_TRUE(asioFired);
  EXPECT_EQ(exchange.received, exchange.sent);
}

// A reader that, on its first read, stops watching itself, closes its descriptor and
// watches a fresh, silent pipe, which usually gets the same number: no stale readiness
// of the old one may reach the new one.
class Reusing : public torsion::Selectable {
 public:
  explicit Reusing(torsion::Reactor& reactor) : reactor_(reactor) {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe");
  }
  ~Reusing() override {
    for (int fd : fds_) ::close(fd);
  }
  Reusing(const Reusing&) = delete;
  Reusing& operator=(const Reusing&) = delete;
  int fileno() const override { return fds_[0]; }
  void doRead() override {
    ++reads;
    if (replaced) return;
    reactor_.removeAll(*this);
    ::close(fds_[0]);
    ::close(fds_[1]);
    const int old = fds_[0];
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe");
    sameNumber = fds_[0] == old;
    replaced = true;
    reactor_.addReader(*this);
  }
  void makeReadable() { (void)!::write(fds_[1], "x", 1); }

  int reads = 0;
  bool replaced = false;
  bool sameNumber = false;

 private:
  torsion::Reactor& reactor_;
  int fds_[2] = {-1, -1};
};

TEST(AttachedReactor, AReusedDescriptorNumberNeverGetsItsPredecessorsReadiness) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  Reusing reader(*reactor);
  reader.makeReadable();
  reactor->addReader(reader);
  reactor->callLater(0.2, [&] { reactor->stop(); });
  asio_test::runBounded(context, 10);
  reactor->removeAll(reader);
  EXPECT_TRUE(reader.replaced);
  EXPECT_EQ(reader.reads, 1) << "the silent pipe was read" << (reader.sameNumber ? " (same number)" : "");
}

TEST(OwnIoContext, AReusedDescriptorNumberNeverGetsItsPredecessorsReadiness) {
  torsion::Reactor reactor("asio");
  Reusing reader(reactor);
  reader.makeReadable();
  reactor.addReader(reader);
  const double deadline = asio_test::now() + 0.2;
  while (asio_test::now() < deadline) reactor.iterate(0.01);
  reactor.removeAll(reader);
  EXPECT_TRUE(reader.replaced);
  EXPECT_EQ(reader.reads, 1);
}

}  // namespace
