// threaded_echo: the thread-per-connection echo server of the lessons (Python's
// socketserver.ThreadingTCPServer): blocking sockets, one std::thread per client, no
// event loop. It is the baseline backend_tour compares the reactor with: each client
// costs a thread and its stack, and the kernel's scheduler does the multiplexing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>

#include "cli.hpp"

namespace {

// Echoes until the peer closes; the whole life of one connection, on its own thread.
void serveClient(int fd) {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (ssize_t sent = 0; sent < got;) {
      const ssize_t n = ::send(fd, buffer + sent, static_cast<std::size_t>(got - sent), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        return;
      }
      sent += n;
    }
  }
  ::close(fd);
}

int listenOn(const std::string& interface, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, interface.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("'" + interface + "' is not a numeric IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 1024) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "bind/listen " + interface + ":" + std::to_string(port));
  }
  return fd;
}

std::uint16_t boundPort(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 8001;
  std::string interface = "127.0.0.1";

  torsion_examples::CommandLine cli("threaded_echo",
                                    "Echoes every byte it receives, one thread per connection (blocking sockets, "
                                    "no event loop), until killed.");
  cli.option("--port", "PORT", "port to listen on; 0 lets the system pick (default 8001)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--interface", "ADDRESS", "numeric IPv4 address to bind (default 127.0.0.1)",
             [&](std::string_view v) { interface = std::string(v); });
  cli.parse(argc, argv);

  int listener = -1;
  try {
    listener = listenOn(interface, port);
  } catch (const std::exception& error) {
    std::cerr << "threaded_echo: " << error.what() << "\n";
    return 1;
  }
  std::printf("listening on %s:%u (one thread per connection)\n", interface.c_str(), boundPort(listener));
  std::fflush(stdout);

  for (;;) {
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or memory: say so and wait for a connection to end, rather
      // than spin on a listener that stays readable.
      std::cerr << "threaded_echo: accept: " << std::strerror(errno) << "\n";
      ::usleep(100 * 1000);
      continue;
    }
    const int on = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    try {
      std::thread(serveClient, client).detach();
    } catch (const std::system_error& error) {
      std::cerr << "threaded_echo: no thread for a new client: " << error.what() << "\n";
      ::close(client);
    }
  }
}
