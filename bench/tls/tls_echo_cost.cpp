// bench/tls: the user-space cost of one 1 KiB echo over TLS against plain TCP, made to be
// counted by callgrind (instruction counts repeat on a loaded machine; wall time does not).
//
//   tls_echo_cost --certificates DIR [--plain] [--messages N]
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measuredEchoes*' \
//       build/bench/tls/tls_echo_cost --certificates DIR --messages 2000
//
// One process, one reactor, one connection: a client sends 1 KiB, the server echoes it,
// the client sends the next once all of it is back. After a warm-up (the handshake and the
// first 200 round trips) measuredEchoes() runs the counted round trips, so the collected
// instructions divided by N are one round trip: two reads and two writes on each side,
// the same work for plain and TLS, with AES-GCM the only thing TLS must add.
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

namespace {

namespace tls = torsion::tls;

class Echo : public torsion::Protocol {
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

class Pinger : public torsion::Protocol {
 public:
  explicit Pinger(long& roundTrips) : roundTrips_(roundTrips), message_(1024, 'm') {}
  void connectionMade() override { transport().write(message_); }
  void dataReceived(torsion::Bytes data) override {
    received_ += data.size();
    if (received_ < message_.size()) return;
    received_ = 0;
    ++roundTrips_;
    transport().write(message_);
  }

 private:
  long& roundTrips_;
  std::string message_;
  std::size_t received_ = 0;
};

bool runUntil(torsion::Reactor& reactor, const long& roundTrips, long target) {
  for (int i = 0; i < 10'000'000 && roundTrips < target; ++i) reactor.iterate(1);
  return roundTrips >= target;
}

// Not inlined, so that callgrind's --toggle-collect can name it.
[[gnu::noinline]] bool measuredEchoes(torsion::Reactor& reactor, const long& roundTrips, long target) {
  return runUntil(reactor, roundTrips, target);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  bool plain = false;
  long messages = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--certificates" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--plain") {
      plain = true;
    } else if (arg == "--messages" && i + 1 < argc) {
      messages = std::atol(argv[++i]);
    }
  }
  if (dir.empty() && !plain) {
    std::cerr << "usage: tls_echo_cost --certificates DIR [--plain] [--messages N]\n";
    return 2;
  }
  torsion::Reactor reactor;
  long roundTrips = 0;
  auto server = torsion::Factory::forProtocol<Echo>();
  auto client = torsion::ClientFactory::forProtocol<Pinger>(std::ref(roundTrips));
  std::shared_ptr<torsion::ListeningPort> port;
  if (plain) {
    port = reactor.listenTCP(0, server, 50, "127.0.0.1");
    reactor.connectTCP("127.0.0.1", port->getHost().port, client);
  } else {
    port = tls::listenSSL(reactor, 0, server, tls::ServerTLSOptions({dir + "/server.pem", dir + "/server.key"}), 50,
                          "127.0.0.1");
    tls::connectSSL(reactor, "127.0.0.1", port->getHost().port, client,
                    tls::optionsForClientTLS("localhost", tls::TrustRoot::fromCAFile(dir + "/ca.pem")));
  }
  const long warmUp = 200;
  if (!runUntil(reactor, roundTrips, warmUp) || !measuredEchoes(reactor, roundTrips, warmUp + messages)) {
    std::cerr << "tls_echo_cost: the echo stalled\n";
    return 1;
  }
  std::printf("%s: %ld measured 1 KiB round trips\n", plain ? "plain" : "tls", messages);
  return 0;
}
