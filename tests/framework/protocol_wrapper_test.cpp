// ProtocolWrapper and WrappingFactory, the framework's one way to put a protocol between
// a transport and another (the policies and TLS use it), and switchProtocol, on
// StringTransport. The policies built on them are tested in protocols/policies_test.cpp,
// TLS in tls/.
#include <torsion/protocol_wrapper.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <stdexcept>
#include <string>

#include "scripted_protocols.hpp"
#include "wired_connection.hpp"

namespace {

using torsion::ProtocolWrapper;
using torsion::WrappingFactory;
using torsion::testing::Clock;
using torsion::testing::StringTransport;
using torsion_test::Built;
using torsion_test::RecordingProducer;
using torsion_test::ScriptedProtocol;
using torsion_test::wire;
using torsion_test::Wired;

const torsion::Address kPeerA{torsion::Address::Family::ipv4, "192.168.1.1", 1000};

class CountingFactory : public torsion::Factory {
 public:
  int starts = 0;
  int stops = 0;
  void startFactory() override { ++starts; }
  void stopFactory() override { ++stops; }
};

std::shared_ptr<torsion::Factory> scripted(Built<ScriptedProtocol>& built) {
  return torsion_test::recordingFactory<ScriptedProtocol>(built);
}

// Upper-cases what the wrapped protocol writes: a wrapper that changes the bytes, as TLS does.
class Shouting final : public ProtocolWrapper {
 public:
  Shouting() : ProtocolWrapper(nullptr, nullptr) {}
  void write(torsion::Bytes data) override {
    std::string loud(data.data(), data.size());
    for (char& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ProtocolWrapper::write(torsion::Bytes(loud));
  }
};

TEST(ProtocolWrapper, WrapConnectedGoesUnderALiveProtocolWithoutAFactory) {
  auto transport = std::make_shared<StringTransport>();
  ScriptedProtocol inner;
  transport->makeConnection(inner);
  inner.transport().write("plain ");
  auto wrapper = std::make_shared<Shouting>();
  wrapper->wrapConnected(inner);
  EXPECT_EQ(inner.madeCount, 1) << "the wrapped protocol was connected already";
  EXPECT_EQ(&inner.transport(), static_cast<torsion::Transport*>(wrapper.get()));
  EXPECT_EQ(wrapper->wrappingFactory(), nullptr);
  inner.transport().write("loud");
  EXPECT_EQ(transport->value(), "plain LOUD") << "what was written before goes first, unchanged";
  transport->receive("in");
  EXPECT_EQ(inner.received, "in");
  EXPECT_THROW(wrapper->wrapConnected(inner), std::logic_error) << "it wraps a protocol already";
  transport->reportConnectionLost();
  EXPECT_EQ(inner.lostCount, 1);
  EXPECT_EQ(wrapper->wrappedProtocolPtr(), nullptr) << "let go once told, so the two do not keep each other";
  EXPECT_FALSE(wrapper->connected());
}

TEST(ProtocolWrapper, WrapConnectedRefusesAProtocolThatIsNotConnected) {
  ScriptedProtocol inner;
  auto wrapper = std::make_shared<Shouting>();
  EXPECT_THROW(wrapper->wrapConnected(inner), std::logic_error);
}

TEST(ProtocolWrapper, AWrapperCanBeInsertedOverAnotherWrapper) {
  // What startTLS does over a policy: the lower wrapper hands its protocol over.
  auto wrapping = std::make_shared<WrappingFactory>(torsion::Factory::forProtocol<ScriptedProtocol>());
  auto transport = std::make_shared<StringTransport>();
  std::shared_ptr<torsion::Protocol> lower = wrapping->buildProtocol(transport->getPeer());
  transport->makeConnection(*lower);
  auto& policy = static_cast<ProtocolWrapper&>(*lower);
  auto kept = std::static_pointer_cast<ScriptedProtocol>(policy.wrappedProtocolPtr());  // read after the loss
  ScriptedProtocol& inner = *kept;
  auto upper = std::make_shared<Shouting>();
  upper->wrapConnected(inner);
  EXPECT_EQ(policy.wrappedProtocolPtr(), upper);
  inner.transport().write("through both");
  EXPECT_EQ(transport->value(), "THROUGH BOTH");
  transport->receive("up");
  EXPECT_EQ(inner.received, "up");
  EXPECT_EQ(wrapping->connectionCount(), 1u);
  transport->reportConnectionLost();
  EXPECT_EQ(inner.lostCount, 1);
  EXPECT_EQ(wrapping->connectionCount(), 0u);
}

class RecordingClientFactory final : public torsion::ClientFactory {
 public:
  void startedConnecting(torsion::Connector&) override { ++started; }
  void clientConnectionFailed(torsion::Connector&, const torsion::Failure&) override { ++failed; }
  void clientConnectionLost(torsion::Connector&, const torsion::Failure&) override { ++lost; }
  int started = 0, failed = 0, lost = 0;
};

TEST(WrappingFactory, PassesAClientsEventsToTheWrappedClientFactory) {
  auto client = std::make_shared<RecordingClientFactory>();
  client->protocol = [] { return std::make_shared<ScriptedProtocol>(); };
  auto reactor = std::make_shared<torsion::testing::MemoryReactor>();
  auto wrapping = std::make_shared<WrappingFactory>(client);
  auto connector = reactor->connectTCP("127.0.0.1", 1, wrapping);
  ASSERT_NE(connector, nullptr);
  wrapping->clientConnectionFailed(*connector, torsion::Failure(torsion::ConnectionRefusedError()));
  wrapping->clientConnectionLost(*connector, torsion::Failure(torsion::ConnectionLost()));
  EXPECT_EQ(client->started, 1) << "connectTCP's startedConnecting reached the wrapped factory";
  EXPECT_EQ(client->failed, 1);
  EXPECT_EQ(client->lost, 1);
}

TEST(ProtocolWrapper, PassesBytesFlowControlAndTheLossThrough) {
  Built<ScriptedProtocol> built;
  auto inner = std::make_shared<CountingFactory>();
  inner->protocol = [&built] {
    built.all.push_back(std::make_shared<ScriptedProtocol>());
    return built.all.back();
  };
  auto wrapping = std::make_shared<WrappingFactory>(inner);
  wrapping->doStart();
  EXPECT_EQ(inner->starts, 1);

  Wired w = wire(*wrapping);
  ASSERT_TRUE(w.protocol);
  ScriptedProtocol& p = built.back();
  EXPECT_EQ(p.madeCount, 1);
  EXPECT_EQ(wrapping->connectionCount(), 1u);
  EXPECT_NE(p.transportPtr(), w.transport);  // the wrapper's transport, not the real one
  EXPECT_EQ(p.transport().getPeer().host, "192.168.1.1");

  w.transport->receive("hello");
  EXPECT_EQ(p.received, "hello");
  p.transport().write("out");
  const torsion::Bytes pieces[] = {"a", "b"};
  p.transport().writeSequence(pieces);
  EXPECT_EQ(w.transport->value(), "outab");

  auto producer = std::make_shared<RecordingProducer>();
  p.transport().registerProducer(producer, true);
  EXPECT_EQ(w.transport->producer(), producer);
  EXPECT_THROW(p.transport().registerProducer(producer, true), std::logic_error);
  p.transport().pauseProducing();
  EXPECT_EQ(w.transport->producerState(), StringTransport::ProducerState::paused);
  p.transport().resumeProducing();
  EXPECT_EQ(w.transport->producerState(), StringTransport::ProducerState::producing);
  p.transport().unregisterProducer();
  EXPECT_EQ(w.transport->producer(), nullptr);

  p.transport().loseConnection();
  EXPECT_TRUE(w.transport->disconnecting());
  EXPECT_TRUE(p.transport().disconnecting());
  w.transport->reportConnectionLost();
  EXPECT_EQ(p.lostCount, 1);
  EXPECT_TRUE(p.lostWith<torsion::ConnectionDone>());
  EXPECT_FALSE(p.connected());
  EXPECT_EQ(wrapping->connectionCount(), 0u);
  w.transport->reportConnectionLost();  // again: nothing reaches the inner protocol
  EXPECT_EQ(p.lostCount, 1);

  wrapping->doStop();
  EXPECT_EQ(inner->stops, 1);
}

TEST(ProtocolWrapper, TheInnerProtocolsTimersDieWithTheConnectionAndAKeptProtocolFindsADeadTransport) {
  Clock clock;
  Built<ScriptedProtocol> built;
  auto wrapping = std::make_shared<WrappingFactory>(scripted(built));
  std::shared_ptr<ScriptedProtocol> kept;
  {
    Wired w = wire(*wrapping, kPeerA, &clock);
    kept = built.all.back();
    int fired = 0;
    kept->callLater(1, [&] { ++fired; });
    w.transport->reportConnectionLost(torsion::Failure(torsion::ConnectionLost()));
    clock.advance(2);
    EXPECT_EQ(fired, 0);
    built.all.clear();
  }  // the wrapper and the real transport are gone; the inner protocol is kept
  EXPECT_FALSE(kept->transport().connected());
  kept->transport().write("dropped");  // harmless
  EXPECT_THROW(kept->transport().setTcpNoDelay(true), std::logic_error);
}

TEST(ProtocolWrapper, ARefusalPassesThroughAndWrappersCompose) {
  auto refusing = std::make_shared<torsion::Factory>();
  refusing->protocol = [] { return std::shared_ptr<torsion::Protocol>(); };
  WrappingFactory refused(refusing);
  EXPECT_EQ(refused.buildProtocol(kPeerA), nullptr);

  Built<ScriptedProtocol> built;
  auto inner = std::make_shared<WrappingFactory>(scripted(built));
  auto outer = std::make_shared<WrappingFactory>(inner);
  Wired w = wire(*outer);
  EXPECT_EQ(inner->connectionCount(), 1u);
  EXPECT_EQ(outer->connectionCount(), 1u);
  built.back().transport().write("through two");
  EXPECT_EQ(w.transport->value(), "through two");
  w.transport->reportConnectionLost();
  EXPECT_EQ(built.back().lostCount, 1);
  EXPECT_EQ(inner->connectionCount(), 0u);
}

// switchProtocol: a protocol that only sets the connection up (an endpoint's, a proxy
// tunnel's) hands it to the next protocol, from inside its own dataReceived.
TEST(SwitchProtocol, HandsTheConnectionAndTheRestOfTheBytesToTheNextProtocol) {
  auto transport = std::make_shared<StringTransport>();
  torsion::testing::Clock clock;
  transport->setClock(&clock);
  auto next = std::make_shared<ScriptedProtocol>();
  ScriptedProtocol first;
  int firstTimerRuns = 0;
  first.onMade = [&](ScriptedProtocol& self) { self.callLater(5, [&] { ++firstTimerRuns; }); };
  first.onData = [&](ScriptedProtocol& self, torsion::Bytes data) {
    torsion::switchProtocol(self, next, data.substr(data.find('|') + 1));
  };
  transport->makeConnection(first);
  transport->receive("GO|hello");
  EXPECT_FALSE(first.connected()) << "the first protocol is off the connection";
  EXPECT_EQ(first.lostCount, 0) << "its connection went on: connectionLost never runs";
  EXPECT_EQ(next->madeCount, 1);
  EXPECT_EQ(&next->transport(), static_cast<torsion::Transport*>(transport.get()));
  EXPECT_EQ(next->received, "hello") << "the rest of the first protocol's bytes come first";
  transport->receive(" world");
  EXPECT_EQ(next->received, "hello world");
  EXPECT_EQ(first.received, "GO|hello");
  clock.advance(10);
  EXPECT_EQ(firstTimerRuns, 0) << "the first protocol's timers end with its part of the connection";
  EXPECT_THROW(torsion::switchProtocol(first, std::make_shared<ScriptedProtocol>()), std::logic_error);
  transport->reportConnectionLost();
  EXPECT_EQ(next->lostCount, 1);
  EXPECT_EQ(first.lostCount, 0);
}

}  // namespace
