// echo_server: the flagship demo. Echoes every byte back on one event loop, with the
// backend chosen on the command line.
#include <torsion/protocols/echo.hpp>
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>
#include <iostream>

#include "cli.hpp"

namespace {

// Echo with TCP_NODELAY: an echo server answers at once, so Nagle's delay only hurts.
class NoDelayEcho : public torsion::protocols::Echo {
  void connectionMade() override { transport().setTcpNoDelay(true); }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8000;
  std::string interface = "127.0.0.1";
  std::string backend;
  bool noDelay = true;
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
  cli.flag("--nagle", "leave Nagle's algorithm on (TCP_NODELAY off)", [&] { noDelay = false; });
  cli.option("--tls-cert", "PEM", "serve TLS with this certificate chain (needs --tls-key)",
             [&](std::string_view v) { tlsCertificate = std::string(v); });
  cli.option("--tls-key", "PEM", "the private key of --tls-cert", [&](std::string_view v) { tlsKey = std::string(v); });
  cli.parse(argc, argv);
  if (tlsCertificate.empty() != tlsKey.empty()) {
    std::cerr << "echo_server: --tls-cert and --tls-key go together\n";
    return 2;
  }

  try {
    torsion::Reactor reactor(backend);
    auto factory = noDelay ? torsion::Factory::forProtocol<NoDelayEcho>()
                           : torsion::Factory::forProtocol<torsion::protocols::Echo>();
    auto listening =
        tlsCertificate.empty()
            ? reactor.listenTCP(port, factory, 1024, interface)
            : torsion::tls::listenSSL(reactor, port, factory, torsion::tls::ServerTLSOptions({tlsCertificate, tlsKey}),
                                      1024, interface);
    // Announce from inside run(), once SIGINT/SIGTERM handlers are in place, so a script
    // that stops the server right after reading this line gets a clean shutdown.
    reactor.callWhenRunning([&] {
      std::printf("listening on %s (%s backend%s)\n", listening->getHost().toString().c_str(),
                  reactor.backendName().c_str(), tlsCertificate.empty() ? "" : ", TLS");
      std::fflush(stdout);
    });
    reactor.run();
  } catch (const std::exception& error) {
    std::cerr << "echo_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
