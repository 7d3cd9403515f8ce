// Conformance: a socket error reaches the transport as that error, on every backend, even
// where the backend's wait consumed it (libkqueue reads SO_ERROR to fill EV_EOF's fflags,
// which clears it; after that, recv and send no longer see the reset).
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

class SocketErrors : public BackendTest {};

// Reading paused, so only the write side is watched: the reset arrives through doWrite,
// where a send after the consumed error would report a broken pipe instead.
TEST_P(SocketErrors, AResetSeenOnlyByTheWriteSideIsConnectionLostWithTheResetsText) {
  const std::string payload = torsion_test::patternBytes(4 << 20, 7);
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer server(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
        p.onMade = [&](ScriptedProtocol& self) {
          self.transport().pauseProducing();
          self.transport().write(payload);
        };
      }));
  Fd client = server.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
  ASSERT_GT(servers[0].transport().writeBufferSize(), 0u) << "4 MiB to a peer that never reads should queue";
  torsion_test::resetAndClose(client);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "connectionLost"));
  ASSERT_TRUE(servers[0].lostWith<torsion::ConnectionLost>()) << servers[0].lostText();
  EXPECT_NE(servers[0].lostReason->getErrorMessage().find("reset"), std::string::npos)
      << "the reason should be the reset, not what a later send made of it: "
      << servers[0].lostReason->getErrorMessage();
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(SocketErrors);
