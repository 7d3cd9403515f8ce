// A helper program for stop_signal_test: a server that listens on a Unix socket, says
// so, and only then waits for SIGINT or SIGTERM, *before* it calls run(). The signal must
// make run() return at once and the program exit cleanly, removing its socket file.
//
// Usage: signal_before_run_server PATH BACKEND (a reactor backend, or "asio-attached": a
// reactor on an io_context, which then drives it)
#include <poll.h>
#include <signal.h>

#include <torsion/protocols/echo.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>

#include "test_reactor.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: signal_before_run_server PATH BACKEND\n");
    return 2;
  }
  auto owner = torsion_test::makeReactor(argv[2]);
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenUNIX(argv[1], torsion::Factory::forProtocol<torsion::protocols::Echo>());
  // Hold the signals back until the wait below, so that one sent right after the
  // announcement is never handled before the wait begins (it would then wait in vain).
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &stopSignals, &previous);
  std::printf("listening on %s\n", port->getHost().toString().c_str());
  std::fflush(stdout);
  // Not yet in run(): the window in which a signal used to kill the process. ppoll lets
  // the signals in and ends early once a handler ran; without one, the signal kills us.
  const timespec limit{20, 0};
  ::ppoll(nullptr, 0, &limit, &previous);
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  reactor.run();  // on an attached reactor, runs its io_context; with signal handlers either way
  std::printf("stopped cleanly\n");
  return 0;
}
