// framing_echo: echoes every *message* back, one message in, the same message out, in
// the framing chosen on the command line. The demonstration program of docs/framing.md
// and the server the wire-compatibility tests run Twisted's receivers against.
#include <torsion/protocols/basic.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli.hpp"

namespace {

using torsion::Bytes;
namespace protocols = torsion::protocols;

// The echo answers at once, so Nagle's algorithm would only delay it.
template <class Receiver>
class Echoing : public Receiver {
 public:
  using Receiver::Receiver;
  void connectionMade() override { this->transport().setTcpNoDelay(true); }
};

class LineEcho : public Echoing<protocols::LineReceiver> {
  void lineReceived(Bytes line) override { sendLine(line); }
};

class PrefixedEcho : public Echoing<protocols::IntNStringReceiver> {
 public:
  explicit PrefixedEcho(std::size_t prefixLength) : Echoing(prefixLength) {}
  void stringReceived(Bytes message) override { sendString(message); }
};

class NetstringEcho : public Echoing<protocols::NetstringReceiver> {
  void stringReceived(Bytes message) override { sendString(message); }
};

// Builds the echo protocol of one framing, with MAX_LENGTH set if asked.
std::function<std::shared_ptr<torsion::Protocol>()> echoMaker(const std::string& framing,
                                                              std::optional<std::size_t> maxLength) {
  const auto limited = [maxLength](auto protocol) {
    if (maxLength) protocol->MAX_LENGTH = *maxLength;
    return std::shared_ptr<torsion::Protocol>(protocol);
  };
  if (framing == "line") return [=] { return limited(std::make_shared<LineEcho>()); };
  if (framing == "netstring") return [=] { return limited(std::make_shared<NetstringEcho>()); };
  const std::size_t width = framing == "int8" ? 1 : framing == "int16" ? 2 : 4;
  return [=] { return limited(std::make_shared<PrefixedEcho>(width)); };
}

std::string backendNames() {
  std::string names;
  for (const auto& name : torsion::Reactor::availableBackends()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  std::string framing = "line";
  std::uint16_t port = 8000;
  std::string interface = "127.0.0.1";
  std::string backend;
  std::optional<std::size_t> maxLength;

  torsion_examples::CommandLine cli(
      "framing_echo",
      "Echoes every message it receives back as one message in the same framing, until\n"
      "SIGINT or SIGTERM. A message longer than the limit, or malformed input, is logged\n"
      "and the connection dropped, as the receivers do by default.");
  cli.option("--framing", "KIND", "line, int8, int16, int32 or netstring (default line)", [&](std::string_view v) {
    if (v != "line" && v != "int8" && v != "int16" && v != "int32" && v != "netstring") {
      throw std::invalid_argument("'" + std::string(v) + "' is not one of line, int8, int16, int32, netstring");
    }
    framing = std::string(v);
  });
  cli.option("--port", "PORT", "port to listen on; 0 lets the system pick (default 8000)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--interface", "ADDRESS", "numeric address to bind (default 127.0.0.1)",
             [&](std::string_view v) { interface = std::string(v); });
  cli.option("--reactor", "NAME",
             "backend: " + backendNames() + " (default " + torsion::Reactor::defaultBackend() + ")",
             [&](std::string_view v) {
               for (const auto& name : torsion::Reactor::availableBackends()) {
                 if (v == name) {
                   backend = name;
                   return;
                 }
               }
               throw std::invalid_argument("'" + std::string(v) + "' is not built here; available: " + backendNames());
             });
  cli.option("--max-length", "BYTES",
             "longest message accepted (default: the receiver's, 16384 for lines, 99999 otherwise)",
             [&](std::string_view v) {
               maxLength = torsion_examples::parseNumber<long long>(v, 0, std::numeric_limits<long long>::max());
             });
  cli.parse(argc, argv);

  try {
    torsion::Reactor reactor(backend);
    auto factory = std::make_shared<torsion::Factory>();
    factory->protocol = echoMaker(framing, maxLength);
    auto listening = reactor.listenTCP(port, factory, 1024, interface);
    // Announced once running, when SIGTERM already stops the reactor cleanly: whoever
    // waits for this line may signal at once.
    reactor.callWhenRunning([&listening] {
      std::printf("listening on %s\n", listening->getHost().toString().c_str());
      std::fflush(stdout);
    });
    reactor.run();
  } catch (const std::exception& error) {
    std::cerr << "framing_echo: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
