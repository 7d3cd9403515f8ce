// Lifetime, Protocol::callLater / whileConnected under StringTransport and Clock, and the
// argument rule of Factory::forProtocol; no sockets.
#include <torsion/lifetime.hpp>

#include <gtest/gtest.h>
#include <torsion/deferred.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/task.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

using torsion::testing::Clock;
using torsion::testing::StringTransport;

TEST(Lifetime, ABoundCallbackRunsUntilTheEnd) {
  torsion::Lifetime life;
  int calls = 0;
  auto bound = life.bind([&](int n) { calls += n; });
  bound(2);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(bound.live());
  life.end();
  bound(3);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(bound.live());
  EXPECT_TRUE(life.ended());
  life.end();  // again: nothing
}

TEST(Lifetime, ABoundCallbackThatReturnsAValueFailsWithCancelledErrorAfterTheEnd) {
  torsion::Lifetime life;
  auto bound = life.bind([](int n) { return n * 2; });
  EXPECT_EQ(bound(4), 8);
  life.end();
  EXPECT_THROW(bound(4), torsion::CancelledError);
}

TEST(Lifetime, BindingAfterTheEndGivesACallbackThatNeverRuns) {
  torsion::Lifetime life;
  life.end();
  bool ran = false;
  life.bind([&] { ran = true; })();
  EXPECT_FALSE(ran);
}

TEST(Lifetime, TimersRunWhileLiveAndAreCancelledByTheEnd) {
  Clock clock;
  torsion::Lifetime life;
  int fired = 0;
  auto soon = life.callLater(clock, 1, [&] { ++fired; });
  auto later = life.callLater(clock, 10, [&] { ++fired; });
  clock.advance(1);
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(soon.called());
  life.end();
  EXPECT_TRUE(later.cancelled());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  auto none = life.callLater(clock, 1, [&] { ++fired; });
  EXPECT_FALSE(none.active());
  clock.advance(20);
  EXPECT_EQ(fired, 1);
}

TEST(Lifetime, DestroyingTheOwnerEndsItsLifetime) {
  struct Owner {
    int count = 0;
    torsion::Lifetime life;  // last: ends before `count` goes
  };
  Clock clock;
  torsion::Deferred<int> late;
  auto owner = std::make_unique<Owner>();
  Owner* raw = owner.get();
  owner->life.callLater(clock, 1, [raw] { ++raw->count; });
  late.addCallback(owner->life.bind([raw](int) { ++raw->count; }));
  owner.reset();
  clock.advance(5);  // with ASan: no heap-use-after-free
  late.callback(1);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(Lifetime, RescheduledTimersDoNotAccumulate) {
  Clock clock;
  torsion::Lifetime life;
  for (int i = 0; i < 10000; ++i) {
    auto call = life.callLater(clock, 5, [] {});
    call.cancel();  // as an idle timeout renewed for every message
  }
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  // The handles of finished calls are dropped as the list grows; ending still works.
  auto last = life.callLater(clock, 5, [] {});
  life.end();
  EXPECT_TRUE(last.cancelled());
}

// A protocol with an idle timeout and a pending request, as in docs/lifetimes.md.
class Idle : public torsion::Protocol {
 public:
  explicit Idle(std::shared_ptr<int> touched) : touched_(std::move(touched)) {}
  void connectionMade() override {
    timeout_ = callLater(60, [this] {
      ++*touched_;
      transport().loseConnection();
    });
  }
  void dataReceived(torsion::Bytes) override { timeout_.reset(60); }
  void await(torsion::Deferred<std::string>& reply) {
    reply.addCallback(whileConnected([this](const std::string& text) {
      ++*touched_;
      transport().write(text);
    }));
  }

 private:
  std::shared_ptr<int> touched_;
  torsion::DelayedCall timeout_;
};

TEST(ProtocolLifetime, CallLaterUsesTheTransportsClock) {
  Clock clock;
  auto touched = std::make_shared<int>(0);
  auto transport = std::make_shared<StringTransport>();
  transport->setClock(&clock);
  auto protocol = std::make_shared<Idle>(touched);
  transport->makeConnection(*protocol);
  clock.advance(59);
  transport->receive("x");  // resets the timeout
  clock.advance(59);
  EXPECT_FALSE(transport->disconnecting());
  clock.advance(1);
  EXPECT_TRUE(transport->disconnecting());
  EXPECT_EQ(*touched, 1);
  EXPECT_EQ(&protocol->clock(), &clock);
}

TEST(ProtocolLifetime, ConnectionLostCancelsTimersAndDisarmsBoundCallbacks) {
  Clock clock;
  auto touched = std::make_shared<int>(0);
  auto transport = std::make_shared<StringTransport>();
  transport->setClock(&clock);
  auto protocol = std::make_shared<Idle>(touched);
  transport->makeConnection(*protocol);
  torsion::Deferred<std::string> reply;
  protocol->await(reply);
  transport->reportConnectionLost();
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  protocol.reset();  // and the protocol is gone
  reply.callback("too late");
  clock.advance(120);
  EXPECT_EQ(*touched, 0);
  EXPECT_EQ(transport->value(), "");
}

TEST(ProtocolLifetime, DestroyingAProtocolThatWasNeverLostCancelsItsTimers) {
  Clock clock;
  auto touched = std::make_shared<int>(0);
  auto transport = std::make_shared<StringTransport>();
  transport->setClock(&clock);
  auto protocol = std::make_shared<Idle>(touched);
  transport->makeConnection(*protocol);
  protocol.reset();
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(ProtocolLifetime, ABoundLoopingCallStopsDoingAnythingAtConnectionLost) {
  struct Heartbeat : torsion::Protocol {
    explicit Heartbeat(Clock& clock) : loop(clock, whileConnected([this] { transport().write("."); })) {}
    void connectionMade() override { loop.start(1.0); }
    torsion::LoopingCall loop;  // stops when the protocol is destroyed
  };
  Clock clock;
  auto transport = std::make_shared<StringTransport>();
  auto protocol = std::make_shared<Heartbeat>(clock);
  transport->makeConnection(*protocol);
  clock.advance(1);
  clock.advance(1);
  EXPECT_EQ(transport->value(), "...");
  transport->reportConnectionLost();
  clock.advance(1);
  EXPECT_EQ(transport->value(), "...");
}

TEST(ProtocolLifetime, ReactorAndClockSayWhatIsMissing) {
  struct Plain : torsion::Protocol {};
  auto transport = std::make_shared<StringTransport>();
  Plain protocol;
  EXPECT_THROW(protocol.clock(), std::logic_error);  // before makeConnection
  transport->makeConnection(protocol);
  EXPECT_THROW(protocol.reactor(), std::logic_error);
  EXPECT_THROW(protocol.callLater(1, [] {}), std::logic_error);
  Clock clock;
  transport->setClock(&clock);
  EXPECT_EQ(&protocol.clock(), &clock);
}

// ---- Factory::forProtocol's argument rule -------------------------------------------

struct NotCopyable {
  NotCopyable() = default;
  NotCopyable(const NotCopyable&) = delete;
  NotCopyable& operator=(const NotCopyable&) = delete;
  int value = 0;
};

struct Takes : torsion::Protocol {
  Takes(NotCopyable& shared, const std::string& text, int& counter, const std::unique_ptr<int>& owned)
      : byReference(shared), copied(text), viaRef(counter), moved(*owned) {}
  NotCopyable& byReference;
  std::string copied;
  int& viaRef;
  int moved;
};

TEST(ForProtocol, KeepsNonCopyableLvaluesAndStdRefByReferenceAndCopiesTheRest) {
  NotCopyable shared;
  std::string text = "before";
  int counter = 0;
  auto factory = torsion::Factory::forProtocol<Takes>(shared, text, std::ref(counter), std::make_unique<int>(7));
  text = "after";  // copied at forProtocol: not seen
  auto first = std::static_pointer_cast<Takes>(factory->buildProtocol({}));
  auto second = std::static_pointer_cast<Takes>(factory->buildProtocol({}));
  EXPECT_EQ(&first->byReference, &shared);
  EXPECT_EQ(&second->byReference, &shared);
  EXPECT_EQ(&first->viaRef, &counter);
  EXPECT_EQ(first->copied, "before");
  EXPECT_EQ(first->moved, 7);
  EXPECT_EQ(second->moved, 7);
  ++first->viaRef;
  EXPECT_EQ(counter, 1);
  EXPECT_EQ(first->factory, factory);
}

struct TakesClock : torsion::Protocol {
  explicit TakesClock(torsion::IReactorTime& given) : kept(given) {}
  torsion::IReactorTime& kept;
};

TEST(ForProtocol, PassesAClockByReference) {
  Clock clock;
  auto factory = torsion::ClientFactory::forProtocol<TakesClock>(clock);
  auto built = std::static_pointer_cast<TakesClock>(factory->buildProtocol({}));
  EXPECT_EQ(&built->kept, &clock);
}

}  // namespace
