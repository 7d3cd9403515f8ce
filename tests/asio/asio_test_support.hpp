// Test support for the asio backend: protocols that record what happened, an Asio echo
// server and client, and bounded runs of an io_context.
#pragma once

#include <gtest/gtest.h>
#include <torsion/asio_reactor.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor.hpp>

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace asio_test {

using Seconds = std::chrono::duration<double>;

inline double now() { return Seconds(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// One message sent and its echo, whichever world made the connection.
struct Exchange {
  explicit Exchange(std::string message) : sent(std::move(message)) {}
  std::string sent;
  std::string received;
  std::string error;
  bool done = false;
  bool lost = false;
  std::thread::id thread;
};

/// A torsion client that says `exchange->sent`, waits for the whole echo, then closes.
class SayOnce : public torsion::Protocol {
 public:
  explicit SayOnce(Exchange* exchange, std::function<void()>* onDone = nullptr)
      : exchange_(exchange), onDone_(onDone) {}
  void connectionMade() override { transport().write(exchange_->sent); }
  void dataReceived(torsion::Bytes data) override {
    exchange_->received.append(data);
    if (exchange_->received.size() < exchange_->sent.size()) return;
    exchange_->done = true;
    exchange_->thread = std::this_thread::get_id();
    transport().loseConnection();
    if (onDone_ && *onDone_) (*onDone_)();
  }
  void connectionLost(const torsion::Failure&) override { exchange_->lost = true; }

 private:
  Exchange* exchange_;
  std::function<void()>* onDone_;
};

/// Echoes one accepted Asio socket until the peer closes.
class AsioEchoSession : public std::enable_shared_from_this<AsioEchoSession> {
 public:
  explicit AsioEchoSession(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  void start() { readSome(); }

 private:
  void readSome() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](asio::error_code error, std::size_t n) {
      if (error) return;  // the peer closed: the session ends with its last handler
      asio::async_write(self->socket_, asio::buffer(self->buffer_.data(), n),
                        [self](asio::error_code writeError, std::size_t) {
                          if (!writeError) self->readSome();
                        });
    });
  }
  asio::ip::tcp::socket socket_;
  std::array<char, 4096> buffer_{};
};

/// An Asio echo server on 127.0.0.1, port chosen by the system; close() stops accepting.
class AsioEchoServer {
 public:
  explicit AsioEchoServer(asio::io_context& context)
      : acceptor_(context, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() { acceptor_.close(); }
  int accepted() const { return accepted_; }

 private:
  void accept() {
    acceptor_.async_accept([this](asio::error_code error, asio::ip::tcp::socket socket) {
      if (error) return;
      ++accepted_;
      std::make_shared<AsioEchoSession>(std::move(socket))->start();
      accept();
    });
  }
  asio::ip::tcp::acceptor acceptor_;
  int accepted_ = 0;
};

/// An Asio client: connects to 127.0.0.1:`port`, sends `exchange.sent`, reads the echo,
/// closes, then calls `onDone`.
inline void asioSayOnce(asio::io_context& context, std::uint16_t port, Exchange& exchange,
                        std::function<void()> onDone) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(context);
  auto echo = std::make_shared<std::string>(exchange.sent.size(), '\0');
  auto fail = [&exchange, onDone](const char* step, asio::error_code error) {
    exchange.error = std::string(step) + ": " + error.message();
    onDone();
  };
  asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
  socket->async_connect(server, [&exchange, socket, echo, fail, onDone](asio::error_code error) {
    if (error) return fail("connect", error);
    asio::async_write(*socket, asio::buffer(exchange.sent),
                      [&exchange, socket, echo, fail, onDone](asio::error_code writeError, std::size_t) {
                        if (writeError) return fail("write", writeError);
                        asio::async_read(
                            *socket, asio::buffer(*echo),
                            [&exchange, socket, echo, fail, onDone](asio::error_code readError, std::size_t) {
                              if (readError) return fail("read", readError);
                              exchange.received = *echo;
                              exchange.done = true;
                              exchange.thread = std::this_thread::get_id();
                              socket->close();
                              onDone();
                            });
                      });
  });
}

/// Runs `context` until it runs out of work or `limit` seconds pass; returns the time it
/// took, in seconds.
inline double runBounded(asio::io_context& context, double limit) {
  const double start = now();
  context.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(Seconds(limit)));
  return now() - start;
}

}  // namespace asio_test
