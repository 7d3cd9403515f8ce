// Conformance: running and stopping the loop, system event triggers, callWhenRunning, and
// choosing the backend, on every backend.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

class Lifecycle : public BackendTest {};

// Sets an environment variable for one scope and restores the old value after.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnvironment() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_P(Lifecycle, StopFromInsideATimerEndsRunAfterThatPass) {
  bool sameIterationCall = false;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callLater(0.01, [&] {
    EXPECT_TRUE(reactor.running());
    reactor.stop();
    EXPECT_FALSE(reactor.running()) << "running() is false once stopping";
    EXPECT_THROW(reactor.stop(), torsion::ReactorNotRunning) << "a second stop is an error";
  });
  reactor.callLater(0.01, [&] { sameIterationCall = true; });
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  EXPECT_FALSE(reactor.running());
  EXPECT_TRUE(sameIterationCall) << "the pass in which stop was called completes";
}

TEST_P(Lifecycle, StopFromInsideDataReceived) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
        p.onData = [&](ScriptedProtocol&, torsion::Bytes) { reactor.stop(); };
      }));
  auto client = server.connectRaw();
  torsion_test::sendAll(client.get(), "stop, please");
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].received, "stop, please");
  EXPECT_FALSE(servers[0].lost()) << "stopping the loop does not close connections";
}

TEST_P(Lifecycle, StopWhenNotRunningIsAnError) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  EXPECT_FALSE(reactor.running());
  EXPECT_THROW(reactor.stop(), torsion::ReactorNotRunning);
}

TEST_P(Lifecycle, RunCanBeCalledAgainAfterItReturns) {
  int runs = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  for (int i = 0; i < 2; ++i) {
    reactor.callLater(0, [&] {
      ++runs;
      reactor.stop();
    });
    ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  }
  EXPECT_EQ(runs, 2);
}

TEST_P(Lifecycle, SystemEventTriggersRunInPhaseOrderOnceEach) {
  std::vector<std::string> order;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto add = [&](torsion::EventPhase phase, const char* event, std::string name) {
    return reactor.addSystemEventTrigger(phase, event, [&order, name] { order.push_back(name); });
  };
  // Added out of phase order on purpose.
  add(torsion::EventPhase::after, "shutdown", "after shutdown 1");
  add(torsion::EventPhase::during, "shutdown", "during shutdown 1");
  add(torsion::EventPhase::before, "shutdown", "before shutdown 1");
  auto removed = add(torsion::EventPhase::before, "shutdown", "removed");
  add(torsion::EventPhase::after, "shutdown", "after shutdown 2");
  add(torsion::EventPhase::before, "shutdown", "before shutdown 2");
  add(torsion::EventPhase::during, "startup", "during startup");
  add(torsion::EventPhase::before, "startup", "before startup");
  add(torsion::EventPhase::after, "startup", "after startup");
  reactor.removeSystemEventTrigger(removed);
  EXPECT_THROW(reactor.removeSystemEventTrigger(removed), std::invalid_argument);
  reactor.callWhenRunning([&] { order.push_back("when running"); });
  reactor.callLater(0, [&] {
    order.push_back("loop");
    reactor.stop();
    EXPECT_EQ(order.back(), "loop") << "shutdown triggers run after the stopping pass, not inside stop()";
  });
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  const std::vector<std::string> expected = {
      "before startup",    "during startup",    "when running",      "after startup",    "loop",
      "before shutdown 1", "before shutdown 2", "during shutdown 1", "after shutdown 1", "after shutdown 2"};
  EXPECT_EQ(order, expected);

  order.clear();  // triggers are removed once they have run
  reactor.callLater(0, [&] { reactor.stop(); });
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  EXPECT_TRUE(order.empty());
}

TEST_P(Lifecycle, FireSystemEventRunsTriggersOfAnyName) {
  std::vector<std::string> order;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.addSystemEventTrigger(torsion::EventPhase::after, "custom", [&] { order.push_back("after"); });
  reactor.addSystemEventTrigger(torsion::EventPhase::before, "custom", [&] {
    order.push_back("before");
    // A trigger may add another for a later phase of the same event.
    reactor.addSystemEventTrigger(torsion::EventPhase::during, "custom", [&] { order.push_back("added"); });
  });
  reactor.addSystemEventTrigger(torsion::EventPhase::before, "other", [&] { order.push_back("other"); });
  reactor.fireSystemEvent("custom");
  EXPECT_EQ(order, (std::vector<std::string>{"before", "added", "after"}));
}

TEST_P(Lifecycle, CallWhenRunningRunsAtStartupOrAtOnce) {
  std::vector<std::string> order;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  reactor.callWhenRunning([&] {
    order.push_back("at startup");
    reactor.callWhenRunning([&] { order.push_back("at once"); });
    order.push_back("after the nested call");
    reactor.stop();
  });
  EXPECT_TRUE(order.empty()) << "nothing runs before run()";
  ASSERT_TRUE(torsion_test::runWithDeadline(reactor, 5));
  EXPECT_EQ(order, (std::vector<std::string>{"at startup", "at once", "after the nested call"}));
}

TEST_P(Lifecycle, TheNamedBackendIsTheOneUsed) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  // An attached reactor is made by attachToIoContext, on the "asio" backend.
  EXPECT_EQ(reactor.backendName(), isAttachedAsio() ? "asio" : backend());
}

TEST_P(Lifecycle, TheTorsionReactorEnvironmentVariableChoosesTheBackend) {
  if (isAttachedAsio())
    GTEST_SKIP() << "asio-attached is not a backend name: only attachToIoContext makes such a reactor";
  ScopedEnvironment environment("TORSION_REACTOR", backend().c_str());
  torsion::Reactor reactor;
  EXPECT_EQ(reactor.backendName(), backend());
}

TEST(BackendChoice, AnUnknownBackendIsAnErrorListingTheAvailableOnes) {
  const auto available = torsion::Reactor::availableBackends();
  ASSERT_FALSE(available.empty());
  for (const char* name : {"nonesuch", "asio-not-built-here", "EPOLL"}) {
    try {
      torsion::Reactor reactor(name);
      ADD_FAILURE() << "a reactor was made with backend '" << name << "'";
    } catch (const torsion::UnsupportedBackendError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(name), std::string::npos) << message;
      for (const auto& backend : available) EXPECT_NE(message.find(backend), std::string::npos) << message;
    }
  }
}

TEST(BackendChoice, AnUnknownBackendInTheEnvironmentIsTheSameError) {
  ScopedEnvironment environment("TORSION_REACTOR", "nonesuch");
  EXPECT_THROW(torsion::Reactor reactor, torsion::UnsupportedBackendError);
}

TEST(BackendChoice, TheDefaultIsAvailableAndUsedWithoutAName) {
  ScopedEnvironment environment("TORSION_REACTOR", nullptr);
  const auto available = torsion::Reactor::availableBackends();
  const auto chosen = torsion::Reactor::defaultBackend();
  EXPECT_NE(std::find(available.begin(), available.end(), chosen), available.end());
  torsion::Reactor reactor;
  EXPECT_EQ(reactor.backendName(), chosen);
#if defined(__linux__)
  EXPECT_EQ(chosen, "epoll");
  for (const char* expected : {"epoll", "poll", "select"}) {
    EXPECT_NE(std::find(available.begin(), available.end(), expected), available.end()) << expected;
  }
#endif
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Lifecycle);
