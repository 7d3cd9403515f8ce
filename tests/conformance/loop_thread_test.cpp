// Conformance: in a debug build, reactor-thread-only methods called from another thread
// abort with a message naming the method (muduo's assertInLoopThread), on every backend.
// The loop's thread is the one that last ran or iterated the reactor, else its creator.
#include <torsion/reactor.hpp>

#include <memory>
#include <thread>

#include "conformance_names.hpp"

namespace {

class LoopThread : public BackendTest {
 protected:
  void SetUp() override {
#ifdef NDEBUG
    GTEST_SKIP() << "the loop-thread check exists only in debug builds (NDEBUG is defined)";
#endif
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "death tests fork a threaded process, which ThreadSanitizer reports";
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    GTEST_SKIP() << "death tests fork a threaded process, which ThreadSanitizer reports";
#endif
#endif
    // The statements below start a thread: fork-and-exec, not a bare fork.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
};

// Runs `call` on a thread of its own and waits for it.
template <class Call>
void onAnotherThread(Call&& call) {
  std::thread other(std::forward<Call>(call));
  other.join();
}

TEST_P(LoopThread, CallLaterFromAnotherThreadAborts) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  EXPECT_DEATH(onAnotherThread([&] { reactor.callLater(1, [] {}); }), "Reactor::callLater called from a thread");
}

TEST_P(LoopThread, ListenTcpFromAnotherThreadAborts) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  EXPECT_DEATH(onAnotherThread([&] { reactor.listenTCP(0, factory, 50, "127.0.0.1"); }),
               "Reactor::listenTCP called from a thread");
}

TEST_P(LoopThread, TransportWriteFromAnotherThreadAborts) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers));
  torsion_test::Fd client = server.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
  EXPECT_DEATH(onAnotherThread([&] { servers[0].transport().write("from the wrong thread"); }),
               "ITransport::write called from a thread");
}

TEST_P(LoopThread, TheThreadThatIteratesOwnsTheLoop) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  // Made here, driven there: the driving thread may schedule, and this one no longer may.
  bool scheduled = false;
  onAnotherThread([&] {
    reactor.iterate(0);
    auto call = reactor.callLater(10, [] {});
    scheduled = call.active();
    call.cancel();
  });
  EXPECT_TRUE(scheduled);
  EXPECT_DEATH(reactor.callLater(1, [] {}), "Reactor::callLater called from a thread");
  reactor.iterate(0);  // this thread drives it again, and owns it again
  auto call = reactor.callLater(10, [] {});
  EXPECT_TRUE(call.active());
  call.cancel();
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(LoopThread);

}  // namespace
