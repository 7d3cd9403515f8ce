// lifetimes: a line server whose sessions use every kind of callback that can outlive
// them, each bound to the connection (docs/lifetimes.md): an idle timeout (callLater),
// blocking work on the thread pool (deferToThread), a heartbeat (LoopingCall) and a
// Deferred answered elsewhere. `--self-test` runs it against clients that hang up while
// all of that is pending, on every backend, and checks that nothing ran for a gone
// session; under AddressSanitizer it also proves that nothing touched freed memory.
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/torsion.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "cli.hpp"

namespace {

struct Settings {
  double idleSeconds = 30;
  double heartbeatSeconds = 10;
};

// What the self-test counts; a server would not need it.
struct Counters {
  int sessionsGone = 0;
  int lateResults = 0;  // thread results that came back, bound or not
  int ranForGone = 0;   // bound callbacks that ran after their session ended: must stay 0
};

class Session : public torsion::protocols::LineReceiver {
 public:
  // forProtocol<Session>(settings, std::ref(counters)): settings copied, counters by reference.
  Session(const Settings& settings, Counters& counters) : settings_(settings), counters_(counters) {}
  ~Session() override { ++counters_.sessionsGone; }

  void connectionMade() override {
    // A timer bound to the connection: cancelled when it is lost, so [this] is safe.
    idle_ = callLater(settings_.idleSeconds, [this] {
      sendLine("idle for too long");
      transport().loseConnection();
    });
    // A LoopingCall is an object: keep it as a member (destroying it stops it) and bind
    // its function, so that it does nothing once the connection is gone.
    heartbeat_.emplace(clock(), whileConnected([this] { sendLine("."); }));
    heartbeat_->start(settings_.heartbeatSeconds, false);
  }

  void lineReceived(torsion::Bytes line) override {
    idle_.reset(settings_.idleSeconds);
    std::string text(line.begin(), line.end());
    if (text.rfind("slow ", 0) == 0) {
      // The function runs on a pool thread: it captures values, never `this`. Its result
      // comes back to the reactor's thread, where the bound callback runs only if this
      // session is still connected.
      int n = std::stoi(text.substr(5));
      torsion::deferToThread(reactor(), [n] { return slowSquare(n); })
          .addCallback(whileConnected([this](long long square) {
            reportIfGone();
            sendLine(std::to_string(square));
          }))
          .addBoth([&counters = counters_](const torsion::Result<void>&) { ++counters.lateResults; });
    } else {
      sendLine(text);
    }
  }

  void connectionLost(const torsion::Failure&) override {
    // Nothing to cancel by hand: the idle timer and the bound callbacks end when this
    // returns. (Cancelling idle_ here is allowed too.)
    connected_ = false;
  }

 private:
  static long long slowSquare(int n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // stands for blocking work
    return static_cast<long long>(n) * n;
  }
  void reportIfGone() {
    if (!connected_) ++counters_.ranForGone;
  }

  Settings settings_;
  Counters& counters_;  // main's: it outlives the reactor and so every session
  torsion::DelayedCall idle_;
  std::optional<torsion::LoopingCall> heartbeat_;
  bool connected_ = true;
};

// A client that asks for slow work and hangs up at once, leaving it pending.
class HangUp : public torsion::protocols::LineReceiver {
  void connectionMade() override {
    sendLine("slow 12");
    transport().loseConnection();
  }
  void lineReceived(torsion::Bytes) override {}
};

// A client that waits to be dropped by the idle timeout.
class Waits : public torsion::protocols::LineReceiver {
 public:
  explicit Waits(bool& dropped) : dropped_(dropped) {}
  void lineReceived(torsion::Bytes line) override { lastLine_.assign(line.begin(), line.end()); }
  void connectionLost(const torsion::Failure&) override { dropped_ = lastLine_ == "idle for too long"; }

 private:
  bool& dropped_;
  std::string lastLine_;
};

bool selfTest(const std::string& backend) {
  Counters counters;
  Settings settings{0.2, 0.05};
  bool dropped = false;
  {
    torsion::Reactor reactor(backend);
    auto port =
        reactor.listenTCP(0, torsion::Factory::forProtocol<Session>(settings, std::ref(counters)), 50, "127.0.0.1");
    const int hangUps = 5;
    for (int i = 0; i < hangUps; ++i) {
      reactor.connectTCP("127.0.0.1", port->getHost().port, torsion::ClientFactory::forProtocol<HangUp>());
    }
    reactor.connectTCP("127.0.0.1", port->getHost().port,
                       torsion::ClientFactory::forProtocol<Waits>(std::ref(dropped)));
    auto check = torsion::LoopingCall(reactor, [&] {
      bool done = counters.sessionsGone == hangUps + 1 && counters.lateResults == hangUps;
      if (done && reactor.running()) reactor.stop();
    });
    check.start(0.01);
    auto deadline = reactor.callLater(10, [&] {
      if (reactor.running()) reactor.stop();
    });
    reactor.run(false);
    torsion::cancelIfActive(deadline);
  }
  bool ok = counters.ranForGone == 0 && counters.lateResults == 5 && dropped;
  std::printf("%-7s sessions gone: %d, late results: %d, ran for a gone session: %d, idle drop: %s -> %s\n",
              backend.c_str(), counters.sessionsGone, counters.lateResults, counters.ranForGone, dropped ? "yes" : "no",
              ok ? "ok" : "FAILED");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8000;
  bool runSelfTest = false;
  Settings settings;
  torsion_examples::CommandLine cli("lifetimes",
                                    "A line server (echo; 'slow N' squares N on the thread pool) with an idle timeout "
                                    "and a heartbeat, all bound to each connection's life.");
  cli.option("--port", "PORT", "port to listen on; 0 picks one (default 8000)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--idle", "SECONDS", "drop a connection idle this long (default 30)",
             [&](std::string_view v) { settings.idleSeconds = torsion_examples::parseNumber<int>(v, 1, 86400); });
  cli.flag("--self-test", "run the server against clients that hang up early, on every backend; exit 1 on error",
           [&] { runSelfTest = true; });
  cli.parse(argc, argv);

  try {
    if (runSelfTest) {
      bool ok = true;
      for (const auto& backend : torsion::Reactor::availableBackends()) ok = selfTest(backend) && ok;
      return ok ? 0 : 1;
    }
    Counters counters;  // before the reactor: ~Reactor still ends sessions, which use it
    torsion::Reactor reactor;
    auto listening = reactor.listenTCP(port, torsion::Factory::forProtocol<Session>(settings, std::ref(counters)));
    std::printf("listening on %s\n", listening->getHost().toString().c_str());
    std::fflush(stdout);
    reactor.run();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "lifetimes: " << error.what() << "\n";
    return 1;
  }
}
