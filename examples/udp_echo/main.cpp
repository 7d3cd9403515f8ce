// udp_echo: a UDP echo server, or a client that sends datagrams to one and checks that
// each comes back whole (UDP keeps message boundaries, unlike TCP).
#include <torsion/torsion.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli.hpp"

namespace {

class UdpEchoServer : public torsion::DatagramProtocol {
  void datagramReceived(torsion::Bytes data, const torsion::Address& from) override { transport().write(data, from); }
};

class UdpEchoClient : public torsion::DatagramProtocol {
 public:
  UdpEchoClient(torsion::Reactor& reactor, torsion::Address server, int count, std::size_t size)
      : reactor_(reactor), server_(std::move(server)), count_(count), size_(size) {}

  void startProtocol() override {
    transport().connect(server_);
    sendNext();
    // Bound to this protocol's Lifetime: cancelled if the protocol goes first, so the
    // `this` it captures is never used after the protocol is gone.
    timeout_ = life_.callLater(reactor_, 1.0, [this] { onTimeout(); });
  }

  void datagramReceived(torsion::Bytes data, const torsion::Address&) override {
    if (data != expected_) {
      ++mismatches;
    }
    ++received;
    timeout_.reset(1.0);
    if (received == count_) {
      timeout_.cancel();
      reactor_.stop();
    } else {
      sendNext();
    }
  }

  void connectionRefused() override {
    std::cerr << "udp_echo: " << server_.toString() << " refused the datagram (nobody listens there)\n";
    refused = true;
    torsion::cancelIfActive(timeout_);
    reactor_.stop();
  }

  int received = 0;
  int mismatches = 0;
  bool refused = false;
  bool timedOut = false;

 private:
  void sendNext() {
    expected_.assign(size_, static_cast<char>('a' + sent_ % 26));
    ++sent_;
    transport().write(expected_);
  }
  void onTimeout() {
    timedOut = true;
    std::cerr << "udp_echo: no answer within 1 s (datagrams may be lost; UDP does not retry)\n";
    reactor_.stop();
  }

  torsion::Reactor& reactor_;
  torsion::Address server_;
  int count_;
  std::size_t size_;
  int sent_ = 0;
  std::string expected_;
  torsion::DelayedCall timeout_;
  torsion::Lifetime life_;  // last member: ends (cancelling the timer) before the others go
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "server";
  std::string host = "127.0.0.1";
  std::uint16_t port = 9999;
  std::string backend;
  int count = 10;
  std::size_t size = 512;

  torsion_examples::CommandLine cli("udp_echo", "A UDP echo server (--mode server) or a client that checks echoes.");
  cli.option("--mode", "server|client", "what to run (default server)", [&](std::string_view v) {
    if (v != "server" && v != "client") throw std::invalid_argument("expected 'server' or 'client'");
    mode = std::string(v);
  });
  cli.option("--host", "ADDRESS", "numeric address to bind (server) or send to (client); default 127.0.0.1",
             [&](std::string_view v) { host = std::string(v); });
  cli.option("--port", "PORT", "port to bind or send to; the server accepts 0 (default 9999)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--reactor", "NAME", "backend (default " + torsion::Reactor::defaultBackend() + ")",
             [&](std::string_view v) { backend = std::string(v); });
  cli.option("--count", "N", "client: datagrams to send, one at a time (default 10)",
             [&](std::string_view v) { count = torsion_examples::parseNumber<int>(v, 1, 1000000); });
  cli.option("--size", "S", "client: bytes per datagram (default 512)",
             [&](std::string_view v) { size = torsion_examples::parseNumber<std::size_t>(v, 1, 65000); });
  cli.parse(argc, argv);

  try {
    torsion::Reactor reactor(backend);
    if (mode == "server") {
      auto udp = reactor.listenUDP(port, std::make_shared<UdpEchoServer>(), host);
      reactor.callWhenRunning([&] {  // once the signal handlers are in place
        std::printf("listening on %s (udp, %s backend)\n", udp->getHost().toString().c_str(),
                    reactor.backendName().c_str());
        std::fflush(stdout);
      });
      reactor.run();
      return 0;
    }
    if (port == 0) cli.fail("--port must name the server's port in client mode");
    auto family = host.find(':') != std::string::npos ? torsion::Address::Family::ipv6 : torsion::Address::Family::ipv4;
    auto client = std::make_shared<UdpEchoClient>(reactor, torsion::Address{family, host, port}, count, size);
    reactor.listenUDP(0, client, family == torsion::Address::Family::ipv6 ? "::1" : "127.0.0.1");
    reactor.run();
    std::printf("datagrams echoed: %d of %d, mismatched: %d\n", client->received, count, client->mismatches);
    return client->received == count && client->mismatches == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "udp_echo: " << error.what() << "\n";
    return 1;
  }
}
