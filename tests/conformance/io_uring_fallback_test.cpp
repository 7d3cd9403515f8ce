// Where io_uring cannot be used, Reactor("io_uring") runs on epoll with one log line
// saying why, and availableBackends() does not list io_uring. The fault is a real one: a
// seccomp filter refuses io_uring_setup with EPERM, as a container runtime's default
// profile does. Each case runs in a fresh process (a "threadsafe" death test re-executes
// the binary), where the backend's once-per-process probe has not run yet.
#include <sys/syscall.h>

#include <gtest/gtest.h>
#include <torsion/log.hpp>
#include <torsion/reactor.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "conformance_names.hpp"
#include "seccomp_refusal.hpp"

namespace {

// From here on, io_uring_setup fails with EPERM in this process.
void forbidIoUring() { torsion_test::refuseSystemCalls({__NR_io_uring_setup}, EPERM); }

// In the child: refuse io_uring, ask for it, and check what we got.
void askForIoUringWhereItIsForbidden() {
  forbidIoUring();
  std::vector<std::string> logged;
  torsion::log::setSink([&](torsion::log::Level, std::string_view message) { logged.emplace_back(message); });
  if (torsion_test::listsBackend("io_uring"))
    torsion_test::failChild("availableBackends() lists io_uring although io_uring_setup is refused");
  Built<ScriptedProtocol> servers;
  {
    torsion::Reactor reactor("io_uring");
    if (reactor.backendName() != "epoll") torsion_test::failChild("the reactor runs on " + reactor.backendName());
    if (logged.size() != 1) torsion_test::failChild("expected one log line, got " + std::to_string(logged.size()));
    if (logged[0].find("io_uring") == std::string::npos || logged[0].find("epoll") == std::string::npos ||
        logged[0].find("not permitted") == std::string::npos) {
      torsion_test::failChild("the log line does not say what happened: " + logged[0]);
    }
    // And it works: it accepts a connection.
    auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 50, "127.0.0.1");
    Fd client = torsion_test::connectLoopback(port->getHost().port);
    if (!runUntil(
            reactor, [&] { return servers.size() == 1; }, 5, "the accept"))
      torsion_test::failChild("the fallback reactor did not accept");
  }
  torsion::log::resetSink();
  std::fprintf(stderr, "fell back\n");
  std::exit(0);
}

TEST(IoUringFallback, AReactorAskedForIoUringWhereItIsRefusedRunsOnEpollAndSaysWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(askForIoUringWhereItIsForbidden(), testing::ExitedWithCode(0), "fell back");
}

TEST(IoUringFallback, WhereIoUringWorksItIsListedAndUsed) {
  // The same process without the filter, as a control: the probe passes on this kernel
  // unless io_uring is disabled here, in which case there is nothing to compare against.
  if (!torsion_test::listsBackend("io_uring")) GTEST_SKIP() << "io_uring is not usable on this machine";
  torsion::Reactor reactor("io_uring");
  EXPECT_EQ(reactor.backendName(), "io_uring");
}

}  // namespace
