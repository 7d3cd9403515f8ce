// echo_server: the flagship demo. Echoes every byte back on one event loop (or one per
// core with --reactors), with the backend chosen on the command line.
#include <torsion/protocols/echo.hpp>
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "cli.hpp"

namespace {

// Echo with TCP_NODELAY: an echo server answers at once, so Nagle's delay only hurts.
class NoDelayEcho : public torsion::protocols::Echo {
  void connectionMade() override { transport().setTcpNoDelay(true); }
};

// Protocols alive, for the shutdown report. Counted once per connection, in the
// protocol's constructor and destructor, so the echo path the benchmarks measure is the
// plain Echo with nothing wrapped around it. Atomic because --reactors runs several loops.
std::atomic<std::size_t> liveConnections{0};

template <class Base>
class Counted : public Base {
 public:
  Counted() { liveConnections.fetch_add(1, std::memory_order_relaxed); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() override { liveConnections.fetch_sub(1, std::memory_order_relaxed); }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8000;
  std::string interface = "127.0.0.1";
  std::string backend;
  bool noDelay = true;
  unsigned reactors = 1;
  std::string tlsCertificate;
  std::string tlsKey;

  torsion_examples::CommandLine cli("echo_server", "Echoes every byte it receives (RFC 862) until SIGINT or SIGTERM.");
  cli.option("--port", "PORT", "port to listen on; 0 lets the system pick (default 8000)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--interface", "ADDRESS", "numeric address to bind (default 127.0.0.1)",
             [&](std::string_view v) { interface = std::string(v); });
  cli.option(
      "--reactor", "NAME",
      "backend: " +
          [] {
            std::string names;
            for (const auto& name : torsion::Reactor::availableBackends()) names += (names.empty() ? "" : ", ") + name;
            return names;
          }() +
          " (default " + torsion::Reactor::defaultBackend() + ")",
      [&](std::string_view v) { backend = std::string(v); });
  cli.option("--reactors", "N",
             "reactors on threads of their own sharing the port with SO_REUSEPORT; 0 = one per core (default 1)",
             [&](std::string_view v) { reactors = torsion_examples::parseNumber<unsigned>(v, 0, 1024); });
  cli.flag("--nagle", "leave Nagle's algorithm on (TCP_NODELAY off)", [&] { noDelay = false; });
  cli.option("--tls-cert", "PEM", "serve TLS with this certificate chain (needs --tls-key)",
             [&](std::string_view v) { tlsCertificate = std::string(v); });
  cli.option("--tls-key", "PEM", "the private key of --tls-cert", [&](std::string_view v) { tlsKey = std::string(v); });
  cli.parse(argc, argv);
  if (tlsCertificate.empty() != tlsKey.empty()) {
    std::cerr << "echo_server: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!tlsCertificate.empty() && reactors != 1) {
    std::cerr << "echo_server: --tls-cert serves from one reactor; leave out --reactors\n";
    return 2;
  }

  auto makeFactory = [noDelay] {
    return noDelay ? torsion::Factory::forProtocol<Counted<NoDelayEcho>>()
                   : torsion::Factory::forProtocol<Counted<torsion::protocols::Echo>>();
  };
  try {
    if (reactors != 1) {
      torsion::ReactorPool pool(reactors, backend);
      auto ports = pool.listenTCP(
          port, [&](std::size_t, torsion::Reactor&) { return makeFactory(); }, 1024, interface);
      pool.reactor(0).callWhenRunning([&] {
        std::printf("listening on %s (%s backend, %zu reactors)\n", ports.front()->getHost().toString().c_str(),
                    pool.reactor(0).backendName().c_str(), pool.size());
        std::fflush(stdout);
      });
      pool.run();
      return 0;
    }
    {
      torsion::Reactor reactor(backend);
      auto listening =
          tlsCertificate.empty()
              ? reactor.listenTCP(port, makeFactory(), 1024, interface)
              : torsion::tls::listenSSL(reactor, port, makeFactory(),
                                        torsion::tls::ServerTLSOptions({tlsCertificate, tlsKey}), 1024, interface);
      // Announce from inside run(), once SIGINT/SIGTERM handlers are in place, so a script
      // that stops the server right after reading this line gets a clean shutdown.
      reactor.callWhenRunning([&] {
        std::printf("listening on %s (%s backend%s)\n", listening->getHost().toString().c_str(),
                    reactor.backendName().c_str(), tlsCertificate.empty() ? "" : ", TLS");
        std::fflush(stdout);
      });
      reactor.addSystemEventTrigger(torsion::EventPhase::before, "shutdown", [] {
        std::printf("shutting down with %zu connections open\n", liveConnections.load());
        std::fflush(stdout);
      });
      reactor.run();
    }  // the reactor's destructor closes the connections still open
    std::printf("stopped: %zu connections open\n", liveConnections.load());
  } catch (const std::exception& error) {
    std::cerr << "echo_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
