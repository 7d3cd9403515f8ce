// Conformance: callbacks bound to a protocol's connection (Protocol::callLater and
// whileConnected) never run once it is gone, a protocol reaches its reactor through its
// transport, and forProtocol passes a reactor by reference; on every backend.
#include <torsion/deferred.hpp>
#include <torsion/deferred_thread.hpp>
#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/reactor.hpp>

#include <future>
#include <memory>
#include <string>

#include "conformance_names.hpp"

namespace {

class Lifetimes : public BackendTest {};

// What the test sees of a protocol, kept outside it so that it survives the protocol.
struct Probe {
  torsion::Deferred<int> late;  // fired by the test once the protocol is destroyed
  torsion::DelayedCall timer;   // the protocol's bound timer
  std::shared_future<void> gate;
  bool lateChainDone = false;
  bool threadResultArrived = false;
  int touched = 0;  // counted by the bound callbacks, through the protocol's own memory
};

// Leaves a timer, a Deferred callback and a thread's result pending when its connection
// is lost, each capturing `this`: without the binding, each would touch freed memory.
class PendingWork : public torsion::Protocol {
 public:
  explicit PendingWork(std::shared_ptr<Probe> probe) : probe_(std::move(probe)) {}

  void connectionMade() override {
    probe_->timer = callLater(3600, [this] { touch(); });
    probe_->late.addCallback(whileConnected([this](int value) { touch(value); }))
        .addBoth([probe = probe_](const torsion::Result<void>&) { probe->lateChainDone = true; });
    torsion::deferToThread(reactor(),
                           [gate = probe_->gate] {
                             gate.wait();
                             return 42;
                           })
        .addCallback(whileConnected([this](int value) { touch(value); }))
        .addBoth([probe = probe_](const torsion::Result<void>&) { probe->threadResultArrived = true; });
  }

 private:
  void touch(int value = 0) {
    last_ = value;
    ++probe_->touched;  // reads this->probe_
  }

  std::shared_ptr<Probe> probe_;
  int last_ = 0;
};

TEST_P(Lifetimes, BoundTimersDeferredCallbacksAndThreadResultsNeverRunAfterTheProtocolIsGone) {
  auto probe = std::make_shared<Probe>();
  std::promise<void> release;
  probe->gate = release.get_future().share();
  std::weak_ptr<torsion::Protocol> server;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] {
    auto protocol = std::make_shared<PendingWork>(probe);
    server = protocol;
    return protocol;
  };
  torsion_test::LoopbackServer loopback(reactor, factory);
  Fd client = loopback.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return probe->timer.active(); }, 5, "connectionMade"));

  client.reset();  // the peer hangs up
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.expired(); }, 5, "the server protocol's destruction"));
  EXPECT_TRUE(probe->timer.cancelled()) << "the bound timer must be cancelled with the connection";
  EXPECT_TRUE(reactor.getDelayedCalls().empty());

  probe->late.callback(7);  // a Deferred firing after its protocol is gone
  EXPECT_TRUE(probe->lateChainDone);
  release.set_value();  // the thread's result arrives after its protocol is gone
  ASSERT_TRUE(runUntil(
      reactor, [&] { return probe->threadResultArrived; }, 10, "the thread's result"));
  EXPECT_EQ(probe->touched, 0);
}

// Bound timers run while connected, and a protocol that cancels its own timer in
// connectionLost (as code written before binding does) may: they end only after it.
class Ticking : public torsion::Protocol {
 public:
  explicit Ticking(std::shared_ptr<std::string> log) : log_(std::move(log)) {}
  void connectionMade() override {
    idle_ = callLater(3600, [this] { *log_ += "idle;"; });
    callLater(0, [this] {
      *log_ += "tick;";
      transport().write("t");
    });
  }
  void connectionLost(const torsion::Failure&) override {
    idle_.cancel();  // throws AlreadyCancelled if the binding had cancelled it already
    *log_ += "lost;";
  }

 private:
  std::shared_ptr<std::string> log_;
  torsion::DelayedCall idle_;
};

TEST_P(Lifetimes, BoundTimersRunWhileConnectedAndEndOnlyAfterConnectionLost) {
  auto log = std::make_shared<std::string>();
  torsion_test::LogCapture logs;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<Ticking>(log));
  Fd client = server.connectRaw();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return *log == "tick;"; }, 5, "the first tick"));
  char byte = 0;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return ::recv(client.get(), &byte, 1, MSG_DONTWAIT) == 1; }, 5, "the tick's byte"));
  EXPECT_EQ(byte, 't');
  client.reset();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return *log == "tick;lost;"; }, 5, "connectionLost"))
      << logs.all();
  EXPECT_FALSE(logs.contains("Unhandled exception")) << logs.all();
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
}

// A protocol reaches its reactor through its transport, on both ends, and forProtocol
// passes the (non-copyable) reactor by reference.
class KnowsItsReactor : public torsion::Protocol {
 public:
  KnowsItsReactor(torsion::Reactor& given, std::shared_ptr<int> matches)
      : given_(given), matches_(std::move(matches)) {}
  void connectionMade() override {
    if (&reactor() == &given_ && &clock() == static_cast<torsion::IReactorTime*>(&given_)) ++*matches_;
  }

 private:
  torsion::Reactor& given_;
  std::shared_ptr<int> matches_;
};

TEST_P(Lifetimes, AProtocolReachesItsReactorThroughItsTransport) {
  auto matches = std::make_shared<int>(0);
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<KnowsItsReactor>(reactor, matches));
  server.connect(torsion::ClientFactory::forProtocol<KnowsItsReactor>(reactor, matches));
  ASSERT_TRUE(runUntil(
      reactor, [&] { return *matches == 2; }, 5, "both ends' connectionMade"));
}

// A protocol connected through an endpoint was handed its connection by the endpoint's
// protocol; its bound timers must end with its connection all the same, while the
// protocol itself is still alive, held by the test.
class EndpointClient : public torsion::Protocol {
 public:
  void connectionMade() override {
    timer = callLater(3600, [this] { ++fired; });
  }
  void connectionLost(const torsion::Failure&) override { lost = true; }
  torsion::DelayedCall timer;
  int fired = 0;
  bool lost = false;
};

TEST_P(Lifetimes, AProtocolConnectedThroughAnEndpointEndsItsTimersWhenItsConnectionEnds) {
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(reactor, torsion::Factory::forProtocol<torsion::Protocol>());
  auto client = std::make_shared<EndpointClient>();
  auto endpoint = torsion::clientFromString(reactor, "tcp:127.0.0.1:" + std::to_string(server.portNumber()));
  bool connected = false;
  torsion::connectProtocol(*endpoint, client).addCallback([&](const std::shared_ptr<EndpointClient>&) {
    connected = true;
  });
  ASSERT_TRUE(runUntil(
      reactor, [&] { return connected; }, 5, "the endpoint's connection"));
  ASSERT_TRUE(client->timer.active());
  client->transport().loseConnection();
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client->lost; }, 5, "connectionLost"));
  EXPECT_TRUE(client->timer.cancelled());
  EXPECT_TRUE(reactor.getDelayedCalls().empty());
  EXPECT_EQ(client->fired, 0);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Lifetimes);
