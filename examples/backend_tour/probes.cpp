#include "probes.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/torsion.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace tour {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t messageSize = 64;

double microsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// A blocking loopback connection, closed when it goes.
class Socket {
 public:
  explicit Socket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket: out of descriptors?");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket& operator=(Socket&&) = delete;

  void roundTrip(const std::string& message) {
    if (::send(fd_, message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size())) {
      throw std::runtime_error("send failed");
    }
    char buffer[messageSize];
    for (std::size_t got = 0; got < message.size();) {
      const ssize_t n = ::recv(fd_, buffer, message.size() - got, 0);
      if (n <= 0) throw std::runtime_error("the server closed the connection");
      got += static_cast<std::size_t>(n);
    }
  }

 private:
  int fd_;
};

// One client of concurrentEcho: ping, wait for the whole echo, again, `rounds` times.
class PingPong : public torsion::Protocol {
 public:
  struct Shared {
    int rounds = 0;
    int clients = 0;
    int done = 0;
    std::vector<std::shared_ptr<torsion::Protocol>> connected;
    std::function<void()> allDone;
    Latencies* latencies = nullptr;
  };
  explicit PingPong(Shared& shared) : shared_(shared) {}

  void connectionMade() override {
    transport().setTcpNoDelay(true);
    send();
  }
  void dataReceived(torsion::Bytes data) override {
    received_ += data.size();
    if (received_ < messageSize) return;
    received_ = 0;
    shared_.latencies->micros.push_back(microsSince(sent_));
    if (++round_ < shared_.rounds) {
      send();
    } else if (++shared_.done == shared_.clients) {
      shared_.allDone();
    }
  }
  void connectionLost(const torsion::Failure&) override {
    if (round_ < shared_.rounds) {
      ++shared_.latencies->failed;
      if (++shared_.done == shared_.clients) shared_.allDone();
    }
  }

 private:
  void send() {
    sent_ = Clock::now();
    transport().write(std::string(messageSize, 'p'));
  }
  Shared& shared_;  // concurrentEcho's, which outlives the reactor
  std::size_t received_ = 0;
  int round_ = 0;
  Clock::time_point sent_;
};

class PingFactory : public torsion::ClientFactory {
 public:
  explicit PingFactory(PingPong::Shared& shared) : shared_(shared) {}
  std::shared_ptr<torsion::Protocol> buildProtocol(const torsion::Address&) override {
    auto client = std::make_shared<PingPong>(shared_);
    shared_.connected.push_back(client);
    return client;
  }
  void clientConnectionFailed(torsion::Connector&, const torsion::Failure&) override {
    ++shared_.latencies->failed;
    if (++shared_.done == shared_.clients) shared_.allDone();
  }

 private:
  PingPong::Shared& shared_;
};

}  // namespace

double Latencies::percentile(double p) const {
  if (micros.empty()) return 0;
  std::vector<double> sorted = micros;
  std::sort(sorted.begin(), sorted.end());
  const auto index = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

Latencies pingBesideIdle(ServerProcess& server, int idle, int rounds) {
  const long before = server.descriptors();
  std::vector<Socket> idleSockets;
  idleSockets.reserve(static_cast<std::size_t>(idle));
  for (int i = 0; i < idle; ++i) idleSockets.emplace_back(server.port());
  // A connect completes in the kernel's backlog before the server accepts it: wait until
  // the server really holds them all, so that its poller watches every one.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (server.descriptors() < before + idle) {
    if (Clock::now() > deadline) throw std::runtime_error("the server did not accept every idle connection");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Socket active(server.port());
  const std::string message(messageSize, 'x');
  for (int i = 0; i < 50; ++i) active.roundTrip(message);  // warm-up, not timed
  Latencies result;
  result.micros.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    active.roundTrip(message);
    result.micros.push_back(microsSince(start));
  }
  return result;
}

LoadResult concurrentEcho(ServerProcess& server, int clients, int rounds, double timeoutSeconds) {
  LoadResult result;
  // Declared before the reactor: closing the connections left when it is destroyed
  // calls their connectionLost, which counts into `shared`.
  PingPong::Shared shared;
  torsion::Reactor reactor;
  shared.rounds = rounds;
  shared.clients = clients;
  shared.latencies = &result.latencies;
  result.latencies.micros.reserve(static_cast<std::size_t>(clients) * static_cast<std::size_t>(rounds));
  auto sample = [&] {
    result.peakRssKiB = std::max(result.peakRssKiB, server.rssKiB());
    result.peakThreads = std::max(result.peakThreads, server.threads());
  };
  shared.allDone = [&] {
    sample();  // every client still connected: the server at full load
    reactor.stop();
  };
  // Samples while the clients run too, in case memory peaks before the end.
  std::function<void()> tick;
  torsion::DelayedCall ticker;
  tick = [&] {
    sample();
    ticker = reactor.callLater(0.05, tick);
  };
  ticker = reactor.callLater(0.05, tick);
  torsion::DelayedCall timeout = reactor.callLater(timeoutSeconds, [&] { reactor.stop(); });
  auto factory = std::make_shared<PingFactory>(shared);
  const auto start = Clock::now();
  for (int i = 0; i < clients; ++i) reactor.connectTCP("127.0.0.1", server.port(), factory, 10);
  reactor.run(false);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (shared.done < clients) result.latencies.failed += clients - shared.done;
  ticker.cancel();
  timeout.cancel();
  for (auto& protocol : shared.connected) {
    if (protocol->connected()) protocol->transport().abortConnection();
  }
  return result;
}

}  // namespace tour
