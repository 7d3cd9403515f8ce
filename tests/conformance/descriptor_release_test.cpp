// Conformance: a destroyed reactor has given back every descriptor it opened, by the time
// its destructor returns, on every backend. libkqueue closes a kqueue's own descriptors
// later on a thread of its own unless asked to finish (libkqueue_drain_pending_close);
// descriptors that come free at a random later moment make descriptor-limit behaviour
// (EMFILE) untestable and surprise a program that counts on them.
#include <fcntl.h>

#include <torsion/reactor.hpp>

#include <string>

#include "conformance_names.hpp"

namespace {

class DescriptorRelease : public BackendTest {};

// Counted with fcntl rather than /proc/self/fd, which BSD and macOS do not have.
int openDescriptorCount() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) ++count;
  }
  return count;
}

// Listens, accepts one connection and ends: the reactor and what it opened go with it.
void serveOneConnection(const std::string& backend) {
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return servers.size() == 1 && servers[0].made(); }, 5, "the accept"));
}

TEST_P(DescriptorRelease, ADestroyedReactorHasClosedEveryDescriptorItOpened) {
  // Once first: what is opened once per process stays open (the accept reserve of
  // tcp_port.cpp; libkqueue's monitor descriptors). Only the second round must be even.
  serveOneConnection(backend());
  const int before = openDescriptorCount();
  serveOneConnection(backend());
  EXPECT_EQ(openDescriptorCount(), before);
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(DescriptorRelease);
