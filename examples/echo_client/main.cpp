// echo_client: opens N concurrent connections to an echo server, sends M messages of S
// bytes on each (one at a time), checks every echoed byte and prints a summary.
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli.hpp"

namespace {

struct Totals {
  int connections = 0;
  int finished = 0;
  int failed = 0;
  long long messages = 0;
  long long bytes = 0;
  long long mismatches = 0;
};

class EchoChecker : public torsion::Protocol {
 public:
  EchoChecker(Totals& totals, int messages, std::size_t size) : totals_(totals), messagesLeft_(messages), size_(size) {}

  void connectionMade() override {
    transport().setTcpNoDelay(true);
    message_.resize(size_);
    for (std::size_t i = 0; i < size_; ++i) message_[i] = static_cast<char>('a' + (i * 7 + id()) % 26);
    sendNext();
  }

  void dataReceived(torsion::Bytes data) override {
    for (char byte : data) {
      if (byte != message_[received_++]) ++totals_.mismatches;
      if (received_ == size_) {
        received_ = 0;
        ++totals_.messages;
        totals_.bytes += static_cast<long long>(size_);
        sendNext();
      }
    }
  }

  void connectionLost(const torsion::Failure& reason) override {
    // Our own loseConnection ends cleanly; anything else (a refused TLS handshake, which
    // may come after the last message was queued) is a failure.
    if (messagesLeft_ > 0 || received_ != 0 || !reason.check<torsion::ConnectionDone>()) {
      ++totals_.failed;
      std::cerr << "echo_client: connection lost early: " << reason.getErrorMessage() << "\n";
    }
    // The protocol reaches its reactor through its transport: none is handed to it.
    if (++totals_.finished == totals_.connections && reactor().running()) reactor().stop();
  }

 private:
  int id() const { return static_cast<int>(reinterpret_cast<std::uintptr_t>(this) >> 4 & 0xff); }
  void sendNext() {
    if (messagesLeft_ == 0) {
      transport().loseConnection();
      return;
    }
    --messagesLeft_;
    transport().write(message_);
  }

  Totals& totals_;  // main's, which outlives the reactor and so every connection
  int messagesLeft_;
  std::size_t size_;
  std::size_t received_ = 0;
  std::string message_;
};

class CheckerFactory : public torsion::ClientFactory {
 public:
  CheckerFactory(Totals& totals, torsion::Reactor& reactor) : totals_(totals), reactor_(reactor) {}
  void clientConnectionFailed(torsion::Connector& connector, const torsion::Failure& reason) override {
    std::cerr << "echo_client: could not connect to " << connector.getDestination().toString() << ": "
              << reason.getErrorMessage() << "\n";
    ++totals_.failed;
    if (++totals_.finished == totals_.connections && reactor_.running()) reactor_.stop();
  }

 private:
  Totals& totals_;
  torsion::Reactor& reactor_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  std::string backend;
  int connections = 100;
  int messages = 100;
  std::size_t size = 64;
  bool tls = false;
  std::string caFile;

  torsion_examples::CommandLine cli(
      "echo_client", "Opens N connections to an echo server, sends M messages of S bytes on each, checks every byte.");
  cli.option("--host", "HOST", "server address or name (default 127.0.0.1)",
             [&](std::string_view v) { host = std::string(v); });
  cli.option("--port", "PORT", "server port (default 8000)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 1, 65535); });
  cli.option("--reactor", "NAME", "backend (default " + torsion::Reactor::defaultBackend() + ")",
             [&](std::string_view v) { backend = std::string(v); });
  cli.option("--connections", "N", "concurrent connections (default 100)",
             [&](std::string_view v) { connections = torsion_examples::parseNumber<int>(v, 1, 9000); });
  cli.option("--messages", "M", "messages per connection (default 100)",
             [&](std::string_view v) { messages = torsion_examples::parseNumber<int>(v, 0, 100000000); });
  cli.option("--size", "S", "bytes per message (default 64)",
             [&](std::string_view v) { size = torsion_examples::parseNumber<std::size_t>(v, 1, 16 * 1024 * 1024); });
  cli.flag("--tls", "speak TLS, verifying the server's certificate for --host", [&] { tls = true; });
  cli.option("--cafile", "PEM", "with --tls: trust these CA certificates instead of the system's",
             [&](std::string_view v) { caFile = std::string(v); });
  cli.parse(argc, argv);

  try {
    torsion::Reactor reactor(backend);
    Totals totals;
    totals.connections = connections;
    auto factory = std::make_shared<CheckerFactory>(totals, reactor);
    factory->protocol = [&] { return std::make_shared<EchoChecker>(totals, messages, size); };
    auto start = std::chrono::steady_clock::now();
    if (tls) {
      // One options object for every connection: one context, and later connections resume
      // the first one's session.
      auto options = torsion::tls::optionsForClientTLS(
          host, caFile.empty() ? torsion::tls::platformTrust() : torsion::tls::TrustRoot::fromCAFile(caFile));
      for (int i = 0; i < connections; ++i) torsion::tls::connectSSL(reactor, host, port, factory, options, 10);
    } else {
      for (int i = 0; i < connections; ++i) reactor.connectTCP(host, port, factory, 10);
    }
    reactor.run();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "connections: %d (failed %d)\nmessages:    %lld\nbytes:       %lld\nmismatched:  %lld\n"
        "elapsed:     %.3f s\nrate:        %.0f messages/s (%s backend)\n",
        connections, totals.failed, totals.messages, totals.bytes, totals.mismatches, elapsed,
        elapsed > 0 ? static_cast<double>(totals.messages) / elapsed : 0.0, reactor.backendName().c_str());
    return totals.failed == 0 && totals.mismatches == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "echo_client: " << error.what() << "\n";
    return 1;
  }
}
