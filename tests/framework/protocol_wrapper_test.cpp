// ProtocolWrapper and WrappingFactory, the framework's one way to put a protocol between
// a transport and another (the policies and TLS use it), on StringTransport. The
// policies built on it are tested in protocols/policies_test.cpp, TLS in tls/.
#include <torsion/protocol_wrapper.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <stdexcept>
#include <string>

#include "scripted_protocols.hpp"

namespace {

using torsion::ProtocolWrapper;
using torsion::WrappingFactory;
using torsion::testing::StringTransport;
using torsion_test::ScriptedProtocol;

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

}  // namespace
