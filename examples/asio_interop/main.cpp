// asio_interop: torsion living inside an Asio program. One asio::io_context, one thread,
// one run(): an Asio steady_timer and an Asio TCP echo server (acceptor) sit beside a
// torsion echo server, and each world's client talks to the other world's server.
#include <torsion/asio_reactor.hpp>
#include <torsion/protocols/echo.hpp>
#include <torsion/torsion.hpp>

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point started = Clock::now();

// Prints one line, stamped with the time since start.
void say(const std::string& who, const std::string& what) {
  const double at = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("[%7.3f s] %-15s %s\n", at, who.c_str(), what.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------- the Asio side

// Echoes one accepted connection, the Asio way: read some, write it back, repeat.
class AsioEchoSession : public std::enable_shared_from_this<AsioEchoSession> {
 public:
  explicit AsioEchoSession(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  void readSome() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](asio::error_code error, std::size_t n) {
      if (error) {
        say("asio server", "connection closed (" + error.message() + ")");
        return;
      }
      say("asio server", "echoing " + std::to_string(n) + " bytes");
      asio::async_write(self->socket_, asio::buffer(self->buffer_.data(), n),
                        [self](asio::error_code writeError, std::size_t) {
                          if (!writeError) self->readSome();
                        });
    });
  }

 private:
  asio::ip::tcp::socket socket_;
  std::array<char, 4096> buffer_{};
};

void acceptForever(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](asio::error_code error, asio::ip::tcp::socket socket) {
    if (error) return;  // the acceptor was closed
    say("asio server", "accepted " + socket.remote_endpoint().address().to_string() + ":" +
                           std::to_string(socket.remote_endpoint().port()));
    std::make_shared<AsioEchoSession>(std::move(socket))->readSome();
    acceptForever(acceptor);
  });
}

// An Asio client: connect, send `message`, read its echo, close, then `done(ok)`.
void asioClient(asio::io_context& context, std::uint16_t port, std::string message, std::function<void(bool)> done) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(context);
  auto text = std::make_shared<std::string>(std::move(message));
  auto echo = std::make_shared<std::string>(text->size(), '\0');
  socket->async_connect({asio::ip::make_address("127.0.0.1"), port}, [=](asio::error_code error) {
    if (error) {
      say("asio client", "connect failed: " + error.message());
      return done(false);
    }
    say("asio client", "connected to the torsion server, sending \"" + *text + "\"");
    asio::async_write(*socket, asio::buffer(*text), [=](asio::error_code writeError, std::size_t) {
      if (writeError) return done(false);
      asio::async_read(*socket, asio::buffer(*echo), [=](asio::error_code readError, std::size_t) {
        if (readError) return done(false);
        say("asio client", "got its echo back: \"" + *echo + "\"");
        socket->close();
        done(*echo == *text);
      });
    });
  });
}

// ---------------------------------------------------------------- the torsion side

// A torsion client: says one message, checks the echo, hangs up.
class SayOnce : public torsion::Protocol {
 public:
  SayOnce(std::string message, std::function<void(bool)>* done) : message_(std::move(message)), done_(done) {}
  void connectionMade() override {
    say("torsion client", "connected to the Asio server, sending \"" + message_ + "\"");
    transport().write(message_);
  }
  void dataReceived(torsion::Bytes data) override {
    echo_.append(data);
    if (echo_.size() < message_.size()) return;
    say("torsion client", "got its echo back: \"" + echo_ + "\"");
    transport().loseConnection();
    (*done_)(echo_ == message_);
  }

 private:
  std::string message_;
  std::string echo_;
  std::function<void(bool)>* done_;
};

class LoggingEcho : public torsion::protocols::Echo {
  void connectionMade() override { say("torsion server", "accepted " + transport().getPeer().toString()); }
  void dataReceived(torsion::Bytes data) override {
    say("torsion server", "echoing " + std::to_string(data.size()) + " bytes");
    Echo::dataReceived(data);
  }
  void connectionLost(const torsion::Failure&) override { say("torsion server", "connection closed"); }
};

}  // namespace

int main(int argc, char** argv) {
  int heartbeatMs = 20;
  int limit = 10;
  torsion_examples::CommandLine cli(
      "asio_interop",
      "Runs torsion inside an Asio program: an Asio timer, an Asio echo server, a torsion echo\n"
      "server and a client of each kind, all on one io_context and one thread. Exits by itself.");
  cli.option("--heartbeat", "MS", "period of the Asio timer in milliseconds (default 20)",
             [&](std::string_view v) { heartbeatMs = torsion_examples::parseNumber<int>(v, 1, 10000); });
  cli.option("--limit", "SECONDS", "give up after this long (default 10)",
             [&](std::string_view v) { limit = torsion_examples::parseNumber<int>(v, 1, 3600); });
  cli.parse(argc, argv);

  try {
    asio::io_context context;
    auto reactor = torsion::attachToIoContext(context);  // lives on `context`, runs when it runs
    reactor->callWhenRunning([] { say("torsion", "reactor running inside io_context::run()"); });
    reactor->addSystemEventTrigger(torsion::EventPhase::during, "shutdown", [] { say("torsion", "shutting down"); });

    // 1. An Asio steady_timer, ticking; at the third tick it starts the clients (step 4).
    asio::steady_timer heartbeat(context);
    int beats = 0;
    std::function<void()> startClients;
    std::function<void()> beat = [&] {
      heartbeat.expires_after(std::chrono::milliseconds(heartbeatMs));
      heartbeat.async_wait([&](asio::error_code error) {
        if (error) return;
        say("asio timer", "tick " + std::to_string(++beats));
        if (beats == 3) startClients();
        beat();
      });
    };
    beat();
    // A torsion timer too: the reactor's timers run on an asio::steady_timer of its own.
    reactor->callLater(heartbeatMs * 1.5 / 1000, [] { say("torsion timer", "fired (callLater)"); });

    // 2. An Asio TCP acceptor: an echo server written with Asio.
    asio::ip::tcp::acceptor acceptor(context, {asio::ip::make_address("127.0.0.1"), 0});
    acceptForever(acceptor);
    const std::uint16_t asioPort = acceptor.local_endpoint().port();
    say("asio server", "listening on 127.0.0.1:" + std::to_string(asioPort));

    // 3. A torsion echo server.
    auto listening = reactor->listenTCP(0, torsion::Factory::forProtocol<LoggingEcho>(), 50, "127.0.0.1");
    const std::uint16_t torsionPort = listening->getHost().port;
    say("torsion server", "listening on " + listening->getHost().toString());

    // 4. Clients across worlds; when both are answered, everyone stops.
    int answered = 0;
    bool allOk = true;
    auto safety = std::make_shared<asio::steady_timer>(context, std::chrono::seconds(limit));
    std::function<void(bool)> done = [&](bool ok) {
      allOk = allOk && ok;
      if (++answered < 2) return;
      say("main", "both echoes are back: stopping torsion, the timer and the acceptor");
      reactor->stop();  // torsion withdraws from the io_context ...
      heartbeat.cancel();
      acceptor.close();
      safety->cancel();  // ... and with our own work done, run() returns
    };
    safety->async_wait([&](asio::error_code error) {
      if (error) return;
      say("main", "gave up waiting");
      allOk = false;
      context.stop();
    });
    startClients = [&] {  // called from an Asio handler: torsion calls are fine there
      reactor->connectTCP("127.0.0.1", asioPort,
                          torsion::ClientFactory::forProtocol<SayOnce>(std::string("hello from torsion"), &done));
      asioClient(context, torsionPort, "hello from asio", done);
    };

    context.run();  // one loop, one thread: both worlds
    say("main", "io_context::run() returned after " + std::to_string(beats) + " timer ticks");
    say("main", "destroying the reactor, which closes what torsion still has open");
    reactor.reset();
    return allOk ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "asio_interop: " << error.what() << "\n";
    return 1;
  }
}
