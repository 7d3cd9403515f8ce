// The asio backend on a user's io_context: when the reactor starts, what stop() does,
// what stopping the io_context does, Reactor::run on it, and destruction.
#include <torsion/asio_reactor.hpp>

#include <gtest/gtest.h>
#include <torsion/factory.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/reactor.hpp>
#include <torsion/selectable.hpp>

#include <asio.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <stdexcept>
#include <string>
#include <vector>

#include "asio_test_support.hpp"

namespace {

using asio_test::Exchange;
using asio_test::SayOnce;

void recordShutdown(torsion::Reactor& reactor, std::vector<std::string>& events) {
  reactor.addSystemEventTrigger(torsion::EventPhase::before, "shutdown", [&] { events.push_back("before"); });
  reactor.addSystemEventTrigger(torsion::EventPhase::during, "shutdown", [&] { events.push_back("during"); });
  reactor.addSystemEventTrigger(torsion::EventPhase::after, "shutdown", [&] { events.push_back("after"); });
}

TEST(AttachedLifecycle, TheReactorStartsWhenTheIoContextRuns) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  reactor->addSystemEventTrigger(torsion::EventPhase::during, "startup", [&] { events.push_back("startup"); });
  reactor->callWhenRunning([&] {
    events.push_back(reactor->running() ? "running" : "not running");
    reactor->stop();
  });
  EXPECT_TRUE(events.empty()) << "nothing runs before the io_context does";
  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_EQ(events, (std::vector<std::string>{"startup", "running"}));
}

TEST(AttachedLifecycle, StopFiresShutdownThenRunReturnsOnceTheUsersWorkIsDone) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  recordShutdown(*reactor, events);
  // A listening port and an open connection keep waits pending on the io_context.
  auto port = reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::protocols::Echo>(), 50, "127.0.0.1");
  asio::ip::tcp::socket idle(context);
  idle.connect({asio::ip::make_address("127.0.0.1"), port->getHost().port});
  reactor->callLater(0.02, [&] { reactor->stop(); });
  asio::steady_timer userWork(context, std::chrono::milliseconds(150));
  userWork.async_wait([&](asio::error_code) { events.push_back("user work"); });

  const double took = asio_test::runBounded(context, 10);
  EXPECT_LT(took, 5) << "torsion must withdraw its waits when it stops";
  EXPECT_GE(took, 0.14) << "run() returns only when the user's own work is done too";
  EXPECT_EQ(events, (std::vector<std::string>{"before", "during", "after", "user work"}));
  EXPECT_FALSE(reactor->running());
  EXPECT_TRUE(context.stopped()) << "run() returned because the io_context ran out of work";
}

TEST(AttachedLifecycle, StoppingTheIoContextPausesTorsionWithoutShutdown) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  recordShutdown(*reactor, events);
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    reactor->callLater(0.005, tick);
  };
  reactor->callWhenRunning(tick);
  asio::steady_timer user(context, std::chrono::milliseconds(50));
  user.async_wait([&](asio::error_code) { context.stop(); });

  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_GT(ticks, 0);
  EXPECT_TRUE(reactor->running()) << "a stopped io_context only pauses the reactor";
  EXPECT_TRUE(events.empty()) << "no shutdown without Reactor::stop";

  // (Nothing can run while the io_context is stopped: this thread is the only one.)
  const int ticksWhilePaused = ticks;

  context.restart();
  user.expires_after(std::chrono::milliseconds(50));
  user.async_wait([&](asio::error_code) { reactor->stop(); });
  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_GT(ticks, ticksWhilePaused) << "running the io_context again resumes torsion";
  EXPECT_EQ(events, (std::vector<std::string>{"before", "during", "after"}));
}

TEST(AttachedLifecycle, ReactorRunDrivesTheIoContextUntilStop) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  recordShutdown(*reactor, events);
  asio::steady_timer user(context, std::chrono::milliseconds(20));
  user.async_wait([&](asio::error_code) {
    events.push_back("asio timer");
    reactor->stop();
  });
  asio::steady_timer later(context, std::chrono::hours(1));  // the user's work, still pending
  bool laterCancelled = false;
  later.async_wait([&](asio::error_code error) { laterCancelled = error == asio::error::operation_aborted; });
  bool timedOut = false;
  auto guard = reactor->callLater(10, [&] {
    timedOut = true;
    reactor->stop();
  });

  reactor->run(false);
  EXPECT_FALSE(timedOut);
  EXPECT_EQ(events, (std::vector<std::string>{"asio timer", "before", "during", "after"}));
  EXPECT_FALSE(reactor->running());
  EXPECT_FALSE(context.stopped()) << "the user's pending work is left queued";
  later.cancel();
  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_TRUE(laterCancelled);
}

TEST(AttachedLifecycle, ReactorRunStopsWhenTheIoContextIsStopped) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  recordShutdown(*reactor, events);
  asio::steady_timer user(context, std::chrono::milliseconds(20));
  user.async_wait([&](asio::error_code) { context.stop(); });
  auto guard = reactor->callLater(10, [&] { reactor->stop(); });
  const double start = asio_test::now();
  reactor->run(false);
  EXPECT_LT(asio_test::now() - start, 5);
  EXPECT_EQ(events, (std::vector<std::string>{"before", "during", "after"}));
  EXPECT_FALSE(reactor->running());
}

TEST(AttachedLifecycle, AStoppedReactorServesAgainWhenRunAgain) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  auto port = reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::protocols::Echo>(), 50, "127.0.0.1");
  const std::uint16_t number = port->getHost().port;

  Exchange first{"first"};
  std::function<void()> stopFirst = [&] { reactor->stop(); };
  reactor->connectTCP("127.0.0.1", number, torsion::ClientFactory::forProtocol<SayOnce>(&first, &stopFirst));
  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_EQ(first.received, "first");

  Exchange second{"second"};
  std::function<void()> stopSecond = [&] { reactor->stop(); };
  reactor->connectTCP("127.0.0.1", number, torsion::ClientFactory::forProtocol<SayOnce>(&second, &stopSecond));
  auto guard = reactor->callLater(10, [&] { reactor->stop(); });
  reactor->run(false);
  EXPECT_EQ(second.received, "second");
}

TEST(AttachedLifecycle, StopFromAnAsioHandlerEndsTheReactorAtOnce) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  recordShutdown(*reactor, events);
  auto port = reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::protocols::Echo>(), 50, "127.0.0.1");
  asio::steady_timer user(context, std::chrono::milliseconds(20));
  user.async_wait([&](asio::error_code) { reactor->stop(); });  // outside any torsion pass
  EXPECT_LT(asio_test::runBounded(context, 10), 5);
  EXPECT_EQ(events, (std::vector<std::string>{"before", "during", "after"}));
}

// A descriptor of the user's, watched by the reactor: it must stay open.
class UserPipe : public torsion::Selectable {
 public:
  UserPipe() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe");
  }
  ~UserPipe() override {
    for (int fd : fds_) ::close(fd);
  }
  UserPipe(const UserPipe&) = delete;
  UserPipe& operator=(const UserPipe&) = delete;
  int fileno() const override { return fds_[0]; }
  bool open() const { return ::fcntl(fds_[0], F_GETFD) != -1; }

 private:
  int fds_[2] = {-1, -1};
};

TEST(AttachedLifecycle, DestroyingTheReactorClosesItsConnectionsAndLeavesTheIoContextClean) {
  asio::io_context context;
  UserPipe pipe;
  Exchange exchange{"never answered"};
  {
    auto reactor = torsion::attachToIoContext(context);
    reactor->addReader(pipe);
    auto port = reactor->listenTCP(0, torsion::Factory::forProtocol<torsion::Protocol>(), 50, "127.0.0.1");
    reactor->connectTCP("127.0.0.1", port->getHost().port, torsion::ClientFactory::forProtocol<SayOnce>(&exchange));
    const double deadline = asio_test::now() + 5;
    // Run until connected (the client's bytes are sent once it is), then drop the reactor
    // while its waits are pending.
    while (asio_test::now() < deadline && reactor->getDelayedCalls().size() > 0) {
      context.run_one_for(std::chrono::milliseconds(10));
    }
    context.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(exchange.lost);
  }
  EXPECT_TRUE(exchange.lost) << "~Reactor closes its connections";
  EXPECT_TRUE(pipe.open()) << "the reactor must never close a descriptor it did not open";
  context.restart();
  EXPECT_LT(asio_test::runBounded(context, 10), 1) << "nothing of torsion's may keep the io_context busy";
}

TEST(AttachedLifecycle, IterateStartsTheReactorWhenItsWaitRunsTheFirstHandler) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  std::vector<std::string> events;
  reactor->callWhenRunning([&] { events.push_back("running"); });
  // iterate's wait runs the io_context, whose first handler starts the reactor.
  const double deadline = asio_test::now() + 5;
  while (events.empty() && asio_test::now() < deadline) reactor->iterate(0.01);
  EXPECT_EQ(events, (std::vector<std::string>{"running"}));
  EXPECT_TRUE(reactor->running());
  reactor->stop();
  EXPECT_LT(asio_test::runBounded(context, 10), 5) << "the stop completes on the io_context";
  EXPECT_FALSE(reactor->running());
}

TEST(AttachedLifecycle, IterateFromAHandlerThatItsOwnWaitRunsIsRefused) {
  asio::io_context context;
  auto reactor = torsion::attachToIoContext(context);
  int refused = 0;
  bool ran = false;
  asio::post(context, [&] {
    ran = true;
    try {
      reactor->iterate(0);
    } catch (const std::logic_error&) {
      ++refused;
    }
  });
  const double deadline = asio_test::now() + 5;
  while (!ran && asio_test::now() < deadline) reactor->iterate(0.01);
  ASSERT_TRUE(ran);
  EXPECT_EQ(refused, 1) << "a wait nested in the same reactor's wait is refused, not half-run";
  reactor->iterate(0);  // and the reactor still iterates afterwards
}

}  // namespace
