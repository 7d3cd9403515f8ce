// Test support: a scripted, misbehaving HTTP server on 127.0.0.1 (an OS-picked port), on
// a thread of its own with plain sockets, for testing what the HTTP client does with
// truncated, malformed, oversized and missing responses.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "raw_socket.hpp"

namespace torsion_test {

/// One accepted connection, as a script sees it. Every wait is bounded and ends early
/// when the server stops, so a script never hangs a test.
class HostileConnection {
 public:
  HostileConnection(Fd fd, const std::atomic<bool>& stopping) : fd_(std::move(fd)), stopping_(stopping) {
    setNonBlocking(fd_.get());
  }

  /// Reads one request head (up to the blank line) and its Content-Length body; the
  /// head, or "" if the peer closed first or `seconds` passed.
  std::string readRequest(double seconds = 5.0) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    for (;;) {
      const auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffer_.substr(0, end + 4);
        const std::size_t bodyLength = contentLength(head);
        if (buffer_.size() >= end + 4 + bodyLength) {
          buffer_.erase(0, end + 4 + bodyLength);
          ++requests_;
          return head;
        }
      }
      if (!waitReadable(deadline)) return "";
    }
  }

  /// Sends `bytes`; a peer that went away is not an error (hostile scripts often outlive
  /// their client's patience).
  void send(std::string_view bytes) {
    try {
      sendAll(fd_.get(), bytes, 2000);
    } catch (const std::exception&) {
    }
  }

  /// Waits until the peer closes the connection (or `seconds` pass, or the server
  /// stops); true if it closed.
  bool waitForClose(double seconds) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    while (waitReadable(deadline)) {
    }
    return closed_;
  }

  /// Closes the connection now.
  void close() { fd_.reset(); }

  /// Requests read on this connection so far.
  int requests() const noexcept { return requests_; }

 private:
  static std::size_t contentLength(const std::string& head) {
    std::string lower;
    for (char c : head) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    const auto at = lower.find("\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 16));
  }

  // Reads what arrives before the deadline; false at EOF, on timeout or when stopping.
  bool waitReadable(std::chrono::steady_clock::time_point deadline) {
    while (!closed_ && fd_ && !stopping_.load()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd entry{fd_.get(), POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(std::min<long long>(left.count(), 20))) > 0) {
        const std::size_t before = buffer_.size();
        closed_ = !drain(fd_.get(), buffer_);
        return !closed_ || buffer_.size() > before;
      }
    }
    return false;
  }

  Fd fd_;
  const std::atomic<bool>& stopping_;
  std::string buffer_;
  bool closed_ = false;
  int requests_ = 0;
};

/// A server whose every connection runs a script: `script(connection, index)`, where
/// index counts the accepted connections from 0. Connections are served one at a time,
/// in the order they were accepted. The destructor stops the thread: scripts' waits end
/// early, and no test leaves it behind.
class HostileHttpServer {
 public:
  /// What a connection does.
  using Script = std::function<void(HostileConnection&, int index)>;

  explicit HostileHttpServer(Script script) : script_(std::move(script)) {
    listener_ = listenLoopback(port_, 64);
    setNonBlocking(listener_.get());
    thread_ = std::thread([this] { serve(); });
  }
  ~HostileHttpServer() {
    stopping_ = true;
    thread_.join();
  }
  HostileHttpServer(const HostileHttpServer&) = delete;
  HostileHttpServer& operator=(const HostileHttpServer&) = delete;

  /// The port (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT" + `path`.
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  /// Connections accepted so far.
  int connections() const noexcept { return accepted_.load(); }

  // ---- scripts for the usual misbehaviours -------------------------------------------

  /// Reads a request, sends `response`, then closes.
  static Script respondAndClose(std::string response) {
    return [response = std::move(response)](HostileConnection& connection, int) {
      if (connection.readRequest().empty()) return;
      connection.send(response);
      connection.close();
    };
  }

  /// Reads a request, sends `response`, then keeps the connection open until the
  /// client closes it (or 10 s pass).
  static Script respondAndHold(std::string response) {
    return [response = std::move(response)](HostileConnection& connection, int) {
      if (connection.readRequest().empty()) return;
      connection.send(response);
      connection.waitForClose(10);
    };
  }

  /// Reads a request and never answers, until the client gives up (or 10 s pass).
  static Script neverAnswer() {
    return [](HostileConnection& connection, int) {
      connection.readRequest();
      connection.waitForClose(10);
    };
  }

  /// "HTTP/1.1 200 OK" with Content-Length and `body`, kept alive.
  static std::string okResponse(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  }

  /// A response whose head is `megabytes` MiB of header fields.
  static std::string hugeHeaders(std::size_t megabytes = 1) {
    std::string response = "HTTP/1.1 200 OK\r\n";
    const std::string filler(1000, 'x');
    for (int i = 0; response.size() < megabytes * 1024 * 1024; ++i) {
      response += "X-Filler-" + std::to_string(i) + ": " + filler + "\r\n";
    }
    return response + "Content-Length: 0\r\n\r\n";
  }

 private:
  void serve() {
    int index = 0;
    while (!stopping_.load()) {
      pollfd entry{listener_.get(), POLLIN, 0};
      if (::poll(&entry, 1, 20) <= 0) continue;
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      accepted_.fetch_add(1);
      HostileConnection connection(Fd(fd), stopping_);
      script_(connection, index++);
    }
  }

  Script script_;
  Fd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace torsion_test
