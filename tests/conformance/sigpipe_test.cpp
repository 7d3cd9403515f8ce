// Conformance: writing to a peer that has gone never raises SIGPIPE (which would kill the
// process: the test keeps SIGPIPE at its default action), whichever way the bytes are
// sent: write's direct send, writeSequence's gathering send, or a queue flush.
#include <signal.h>
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

class Sigpipe : public BackendTest {
 protected:
  void SetUp() override {
    struct sigaction defaultAction {};
    defaultAction.sa_handler = SIG_DFL;
    ::sigemptyset(&defaultAction.sa_mask);
    ::sigaction(SIGPIPE, &defaultAction, &saved_);
  }
  void TearDown() override { ::sigaction(SIGPIPE, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

// The server does not read (so it never sees the FIN); the peer closes; the server keeps
// writing small pieces: the first is answered by a reset, after which the socket is in
// CLOSE_WAIT with EPIPE pending, so the next send would raise SIGPIPE.
TEST_P(Sigpipe, WritingToAClosedPeerIsConnectionLostNotADeadProcess) {
  for (bool sequence : {false, true}) {
    SCOPED_TRACE(sequence ? "writeSequence" : "write");
    Built<ScriptedProtocol> servers;
    auto owner = torsion_test::makeReactor(backend());
    torsion::Reactor& reactor = *owner;
    torsion_test::LoopbackServer server(
        reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
          p.onMade = [](ScriptedProtocol& self) { self.transport().pauseProducing(); };
        }));
    Fd client = server.connectRaw();
    ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
    client.reset();
    int writes = 0;
    ASSERT_TRUE(runUntil(
        reactor,
        [&] {
          if (servers[0].lost()) return true;
          ++writes;
          if (sequence) {
            torsion::Bytes parts[] = {"still ", "there?"};
            servers[0].transport().writeSequence(parts);
          } else {
            servers[0].transport().write("still there?");
          }
          return false;
        },
        5, "the loss to be noticed"));
    EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionLost>()) << servers[0].lostText();
    EXPECT_GE(writes, 2);
  }
}

TEST_P(Sigpipe, FlushingAQueueToAResetPeerIsConnectionLost) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  torsion_test::LoopbackServer loopback(
      reactor, torsion_test::recordingFactory<ScriptedProtocol>(servers, [](ScriptedProtocol& p) {
        p.onMade = [](ScriptedProtocol& self) { self.transport().pauseProducing(); };
      }));
  Fd client = loopback.connectRaw();
  ASSERT_TRUE(torsion_test::waitForAccepts(reactor, servers));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);  // the server's socket goes to CLOSE_WAIT
  servers[0].transport().write(std::string(32 << 20, 'z'));
  ASSERT_GT(servers[0].transport().writeBufferSize(), 0u) << "the write should have been queued";
  client.reset();  // unread data: the peer answers with a reset
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers[0].lost(); }, 5, "the loss to be noticed"));
  EXPECT_TRUE(servers[0].lostWith<torsion::ConnectionLost>()) << servers[0].lostText();
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Sigpipe);
