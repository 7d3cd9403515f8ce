// Conformance: calling back into the framework from inside callbacks (writing, closing,
// closing others), and descriptors closed in the middle of a batch of events, on every
// backend.
#include <sys/socket.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <functional>
#include <string>
#include <vector>

#include "conformance_names.hpp"

namespace {

class Reentrancy : public BackendTest {};

enum class Hook { connectionMade, dataReceived, readConnectionLost, writeConnectionLost, connectionLost };

const char* hookName(Hook hook) {
  switch (hook) {
    case Hook::connectionMade: return "connectionMade";
    case Hook::dataReceived: return "dataReceived";
    case Hook::readConnectionLost: return "readConnectionLost";
    case Hook::writeConnectionLost: return "writeConnectionLost";
    case Hook::connectionLost: return "connectionLost";
  }
  return "?";
}

struct Action {
  const char* name;
  std::function<void(torsion::Transport&)> run;
};

const std::vector<Action>& actions() {
  static const std::vector<Action> all = {
      {"write", [](torsion::Transport& t) { t.write("hello"); }},
      {"writeSequence",
       [](torsion::Transport& t) {
         torsion::Bytes parts[] = {"hel", "lo"};
         t.writeSequence(parts);
       }},
      {"big write", [](torsion::Transport& t) { t.write(std::string(1 << 20, 'x')); }},
      {"loseConnection", [](torsion::Transport& t) { t.loseConnection(); }},
      {"write then loseConnection",
       [](torsion::Transport& t) {
         t.write("bye");
         t.loseConnection();
       }},
      {"loseConnection then write",
       [](torsion::Transport& t) {
         t.loseConnection();
         t.write("dropped");
       }},
      {"abortConnection", [](torsion::Transport& t) { t.abortConnection(); }},
      {"abort then loseConnection",
       [](torsion::Transport& t) {
         t.abortConnection();
         t.loseConnection();
         t.abortConnection();
       }},
      {"loseWriteConnection", [](torsion::Transport& t) { t.loseWriteConnection(); }},
      {"pause and resume",
       [](torsion::Transport& t) {
         t.pauseProducing();
         t.resumeProducing();
       }},
      {"queries",
       [](torsion::Transport& t) {
         (void)t.getPeer();
         (void)t.getHost();
         (void)t.connected();
         (void)t.disconnecting();
         (void)t.writeBufferSize();
       }},
  };
  return all;
}

// For every hook of a half-closeable protocol and every action a protocol may take, one
// connection: the peer says "ping" and half-closes; the server half-closes in its
// readConnectionLost. Whatever the action does, the connection must end, connectionLost
// must run exactly once and no hook after it.
TEST_P(Reentrancy, EveryActionFromInsideEveryProtocolCallbackIsSafe) {
  Hook hook = Hook::connectionMade;
  const Action* action = nullptr;
  Built<ScriptedHalfCloseProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto factory = torsion_test::recordingFactory<ScriptedHalfCloseProtocol>(servers, [&](ScriptedHalfCloseProtocol& p) {
    auto maybe = [&hook, &action](Hook at, torsion::Transport& transport) {
      if (hook == at) action->run(transport);
    };
    p.onMade = [maybe](ScriptedHalfCloseProtocol& self) { maybe(Hook::connectionMade, self.transport()); };
    p.onData = [maybe](ScriptedHalfCloseProtocol& self, torsion::Bytes) {
      maybe(Hook::dataReceived, self.transport());
    };
    p.onReadLost = [maybe](ScriptedHalfCloseProtocol& self) {
      maybe(Hook::readConnectionLost, self.transport());
      self.transport().loseWriteConnection();
    };
    p.onWriteLost = [maybe](ScriptedHalfCloseProtocol& self) { maybe(Hook::writeConnectionLost, self.transport()); };
    p.onLost = [maybe](ScriptedHalfCloseProtocol& self, const torsion::Failure&) {
      maybe(Hook::connectionLost, self.transport());
    };
  });
  torsion_test::LoopbackServer loopback(reactor, factory);
  for (Hook at : {Hook::connectionMade, Hook::dataReceived, Hook::readConnectionLost, Hook::writeConnectionLost,
                  Hook::connectionLost}) {
    for (const Action& candidate : actions()) {
      hook = at;
      action = &candidate;
      SCOPED_TRACE(std::string(candidate.name) + " inside " + hookName(at));
      Fd client = loopback.connectRaw();
      torsion_test::sendAll(client.get(), "ping");
      ::shutdown(client.get(), SHUT_WR);
      const std::size_t index = servers.size();
      std::string got;
      bool open = true;
      ASSERT_TRUE(runUntil(
          reactor,
          [&] {
            open = open && torsion_test::drain(client.get(), got);
            return !open && servers.size() > index && servers[index].lost();
          },
          5, "the connection to end"));
      torsion_test::runFor(reactor, 0.002);  // anything wrongly scheduled after the loss runs now
      auto& server = servers[index];
      EXPECT_EQ(server.madeCount, 1);
      EXPECT_EQ(server.lostCount, 1);
      EXPECT_FALSE(server.calledAfterLost);
      EXPECT_LE(server.readLostCount, 1);
      EXPECT_LE(server.writeLostCount, 1);
    }
  }
}

// Two connections readable in the same pass: the first one dispatched closes the other,
// which must then get no dataReceived, whether it was aborted or asked to close.
TEST_P(Reentrancy, ClosingAnotherConnectionInTheSameBatchSuppressesItsEvents) {
  for (bool abort : {true, false}) {
    SCOPED_TRACE(abort ? "abortConnection" : "loseConnection");
    Built<ScriptedProtocol> servers;
    auto owner = torsion_test::makeReactor(backend());
    torsion::Reactor& reactor = *owner;
    ScriptedProtocol* closer = nullptr;
    auto factory = torsion_test::recordingFactory<ScriptedProtocol>(servers, [&](ScriptedProtocol& p) {
      p.onData = [&, abort](ScriptedProtocol& self, torsion::Bytes) {
        if (closer) return;
        closer = &self;
        ScriptedProtocol& other = &servers[0] == &self ? servers[1] : servers[0];
        if (abort)
          other.transport().abortConnection();
        else
          other.transport().loseConnection();
      };
    });
    torsion_test::LoopbackServer server(reactor, factory);
    Fd first = server.connectRaw();
    Fd second = server.connectRaw();
    ASSERT_TRUE(runUntil(
        reactor, [&] { return servers.size() == 2 && servers[1].made(); }, 5, "both accepts"));
    torsion_test::sendAll(first.get(), "one");
    torsion_test::sendAll(second.get(), "two");
    ASSERT_TRUE(runUntil(
        reactor, [&] { return closer != nullptr && (servers[0].lost() || servers[1].lost()); }, 5, "the close"));
    torsion_test::runFor(reactor, 0.02);
    ScriptedProtocol& other = closer == &servers[0] ? servers[1] : servers[0];
    EXPECT_EQ(other.dataCalls, 0) << "the closed connection's pending read must be dropped";
    EXPECT_EQ(other.lostCount, 1);
    if (abort) {
      EXPECT_TRUE(other.lostWith<torsion::ConnectionAborted>()) << other.lostText();
    } else {
      EXPECT_TRUE(other.lostWith<torsion::ConnectionDone>()) << other.lostText();
    }
    EXPECT_FALSE(closer->lost());
  }
}

// A user Selectable over one end of a socket pair, recording its reads.
class PairReader : public torsion::Selectable {
 public:
  PairReader() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
      torsion_test::throwErrno("socketpair");
    }
    mine.reset(pair[0]);
    peer.reset(pair[1]);
  }
  int fileno() const override { return mine.get(); }
  void doRead() override {
    ++reads;
    char buffer[64];
    ssize_t got = ::recv(mine.get(), buffer, sizeof buffer, 0);
    if (got <= 0) ++spuriousReads;  // called while nothing was readable
    if (onRead) onRead(*this);
  }
  Fd mine;
  Fd peer;
  int reads = 0;
  int spuriousReads = 0;
  std::function<void(PairReader&)> onRead;
};

// libuv's lesson: when a handler closes another descriptor and the number is reused at
// once, the event already collected for the old descriptor must not reach the new one.
TEST_P(Reentrancy, ADescriptorClosedAndReusedMidBatchIsNotTouched) {
  PairReader a;
  PairReader b;
  PairReader replacement;
  PairReader* first = nullptr;
  int victimNumber = -1;
  int victimReadsAfterRemoval = 0;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto closeTheOther = [&](PairReader& self) {
    if (first) return;
    first = &self;
    PairReader& victim = &self == &a ? b : a;
    victimNumber = victim.fileno();
    reactor.removeAll(victim);
    victim.onRead = [&](PairReader&) { ++victimReadsAfterRemoval; };
    // Reuse the victim's number for a fresh, empty socket, and watch it at once.
    ASSERT_EQ(::dup2(replacement.fileno(), victimNumber), victimNumber);
    replacement.mine.reset(victim.mine.release());
    reactor.addReader(replacement);
  };
  a.onRead = closeTheOther;
  b.onRead = closeTheOther;
  reactor.addReader(a);
  reactor.addReader(b);
  torsion_test::sendAll(a.peer.get(), "a");
  torsion_test::sendAll(b.peer.get(), "b");
  reactor.iterate(1.0);  // both are ready: one batch holds both events
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->reads, 1);
  EXPECT_EQ(replacement.reads, 0) << "the stale event of descriptor " << victimNumber << " reached its new owner";
  EXPECT_EQ(victimReadsAfterRemoval, 0) << "a removed selectable was called";
  // The reused descriptor itself works: its own data does arrive.
  Fd replacementPeer(replacement.peer.release());
  torsion_test::sendAll(replacementPeer.get(), "r");
  ASSERT_TRUE(runUntil(
      reactor, [&] { return replacement.reads == 1; }, 5, "the new owner's own event"));
  EXPECT_EQ(replacement.spuriousReads, 0);
  reactor.removeAll(replacement);
  reactor.removeAll(*first);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(Reentrancy);
