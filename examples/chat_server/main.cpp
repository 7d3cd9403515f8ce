// chat_server: a line-based chat room on one event loop (the classic lesson), on
// LineReceiver. Every client names itself first, then talks to all the others.
#include <torsion/torsion.hpp>

#include <cstdio>
#include <iostream>

#include "chat_room.hpp"
#include "cli.hpp"

namespace {

constexpr const char* protocolText = R"(
Lines end with "\r\n" or "\n"; the server ends its own with "\r\n".
  first line        your nickname (1-32 of A-Za-z0-9_-): "* welcome NICK",
                    or "! name taken" / "! bad name" and another try
  TEXT              reaches every other client as "<NICK> TEXT"
  /who              "* users: A, B, C" (sorted)
  /quit             "* bye", then the connection closes
Others see "* NICK joined" and "* NICK left". A line over --max-line answers
"! line too long" and closes that client; a silent client is closed after
--idle-timeout with "! idle timeout"; a client that does not read what it is sent
is dropped (logged) once --max-output bytes wait for it.)";

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8023;
  std::string interface = "127.0.0.1";
  std::string backend;
  chat::Limits limits;

  torsion_examples::CommandLine cli("chat_server", std::string("A line-based chat room.") + protocolText);
  cli.option("--port", "PORT", "port to listen on; 0 lets the system pick (default 8023)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--interface", "ADDRESS", "numeric address to bind (default 127.0.0.1)",
             [&](std::string_view v) { interface = std::string(v); });
  cli.option("--max-line", "N", "longest line in bytes (default 512)",
             [&](std::string_view v) { limits.maxLine = torsion_examples::parseNumber<std::size_t>(v, 1, 1 << 20); });
  cli.option("--idle-timeout", "S", "seconds of silence before a client is closed; fractions allowed (default 300)",
             [&](std::string_view v) { limits.idleTimeout = torsion_examples::parseSeconds(v, 7 * 24 * 3600); });
  cli.option("--max-output", "BYTES", "bytes queued for one client before it is dropped (default 262144)",
             [&](std::string_view v) {
               limits.maxOutput = torsion_examples::parseNumber<std::size_t>(v, 1024, std::size_t{1} << 30);
             });
  cli.option("--reactor", "NAME", "backend (default " + torsion::Reactor::defaultBackend() + ")",
             [&](std::string_view v) { backend = std::string(v); });
  cli.parse(argc, argv);

  try {
    torsion::Reactor reactor(backend);
    auto room = std::make_shared<chat::ChatRoom>(limits);
    auto listening = reactor.listenTCP(port, room, 128, interface);
    reactor.callWhenRunning([&] {
      std::printf("listening on %s (%s backend)\n", listening->getHost().toString().c_str(),
                  reactor.backendName().c_str());
      std::fflush(stdout);
    });
    reactor.run();
  } catch (const std::exception& error) {
    std::cerr << "chat_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
