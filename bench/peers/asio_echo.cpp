// asio_echo: echo server on standalone Asio, as its own examples write one: a session
// object kept alive by shared_ptr through async_read_some -> async_write -> ...
// One thread, io_context with concurrency hint 1 (no locking), 64 KiB reads.
//
// usage: asio_echo [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
#include <asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace {

using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(data_), [this, self](std::error_code ec, std::size_t n) {
      if (!ec) write(n);
    });
  }

  void write(std::size_t n) {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(data_, n), [this, self](std::error_code ec, std::size_t) {
      if (!ec) read();
    });
  }

  tcp::socket socket_;
  std::array<char, 64 * 1024> data_;
};

class Server {
 public:
  Server(asio::io_context& io, unsigned short port)
      : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), port)) {
    acceptor_.listen(asio::socket_base::max_listen_connections);
    accept();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket))->start();
      }
      accept();
    });
  }

  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: asio_echo [--port P]\n");
      return 2;
    }
  }
  try {
    asio::io_context io(1);
    Server server(io, port);
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
}
