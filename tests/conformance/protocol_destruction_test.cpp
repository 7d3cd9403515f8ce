// Conformance: a protocol is destroyed only at the reactor's release step, after the
// pass's dispatch and the calls it scheduled, never in the middle of a dispatch (its
// transport's doRead or doWrite may still be on the stack then), on every backend.
//
// How a test sees "after the dispatch": while connection A's end of input is dispatched,
// its connectionLost asks connection B to close. B closes later in the same pass (after
// the dispatch), so a protocol destroyed only after that pass's release step is destroyed
// after B's connectionLost. Destroyed inside A's doRead, it would come first.
#include <torsion/protocol_wrapper.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

// A ScriptedProtocol that records its destruction in a shared journal.
class JournaledProtocol : public ScriptedProtocol {
 public:
  JournaledProtocol(std::vector<std::string>& journal, std::string name) : journal_(journal), name_(std::move(name)) {}
  ~JournaledProtocol() override { journal_.push_back(name_ + " destroyed"); }

 private:
  std::vector<std::string>& journal_;
  std::string name_;
};

class ProtocolDestruction : public BackendTest {};

// `closeA` ends connection A from the peer's side in the way under test (its transport
// then drops A's protocol from inside doRead); the journal shows the order.
void checkDestroyedAfterThePass(const std::string& backend, void (*closeA)(Fd&), bool throughWrapper = false) {
  std::vector<std::string> journal;
  std::weak_ptr<JournaledProtocol> first;
  std::weak_ptr<JournaledProtocol> second;
  int built = 0;
  auto owner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&]() -> std::shared_ptr<torsion::Protocol> {
    const bool isFirst = built++ == 0;
    auto protocol = std::make_shared<JournaledProtocol>(journal, isFirst ? "A" : "B");
    (isFirst ? first : second) = protocol;
    protocol->onLost = [&journal, &second, isFirst](ScriptedProtocol&, const torsion::Failure&) {
      journal.push_back(isFirst ? "A lost" : "B lost");
      // A's end of input is being dispatched: close B, which happens after the dispatch.
      if (auto b = second.lock(); isFirst && b) b->transport().loseConnection();
    };
    return protocol;  // held only by its transport from here on
  };
  std::shared_ptr<torsion::Factory> listening = factory;
  if (throughWrapper) listening = std::make_shared<torsion::WrappingFactory>(factory);
  auto port = reactor.listenTCP(0, listening, 50, "127.0.0.1");
  Fd a = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !first.expired(); }, 5, "A's accept"));
  Fd b = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !second.expired(); }, 5, "B's accept"));

  closeA(a);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return first.expired() && second.expired(); }, 5, "both protocols destroyed"));
  auto at = [&](const std::string& entry) {
    return std::find(journal.begin(), journal.end(), entry) - journal.begin();
  };
  ASSERT_EQ(journal.size(), 4u);
  EXPECT_EQ(at("A lost"), 0);
  EXPECT_LT(at("B lost"), at("A destroyed"))
      << "A's protocol was destroyed inside the dispatch that lost it (" << backend << " backend)";
}

TEST_P(ProtocolDestruction, NotInsideDoReadOnACleanClose) {
  checkDestroyedAfterThePass(backend(), [](Fd& fd) { fd.reset(); });
}

TEST_P(ProtocolDestruction, NotInsideDoReadOnAReset) {
  checkDestroyedAfterThePass(backend(), [](Fd& fd) { torsion_test::resetAndClose(fd); });
}

// The same for a protocol behind a ProtocolWrapper (a policy, TLS): the wrapper lets it go
// in its connectionLost, and hands it to the release step rather than dropping it there.
TEST_P(ProtocolDestruction, AWrappedProtocolNotInsideDoRead) {
  checkDestroyedAfterThePass(
      backend(), [](Fd& fd) { fd.reset(); }, true);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(ProtocolDestruction);

}  // namespace
