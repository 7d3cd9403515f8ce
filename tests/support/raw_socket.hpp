// Test support: plain BSD sockets as peers the framework did not make, for checking what
// really crosses the wire (resets, half-closes, back-pressure).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace torsion_test {

/// Owns one descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

[[noreturn]] inline void throwErrno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

inline void setNonBlocking(int fd) {
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) throwErrno("fcntl(O_NONBLOCK)");
}

inline sockaddr_in loopback4(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

/// Connects to 127.0.0.1:`port`. The kernel completes the handshake from the listen
/// backlog, so this works while the reactor is not being iterated. The socket is left
/// non-blocking afterwards, so reads never hang a test.
inline Fd connectLoopback(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket");
  sockaddr_in address = loopback4(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) throwErrno("connect");
  setNonBlocking(fd.get());
  return fd;
}

/// A listening socket on 127.0.0.1 with a port the system picks; `port` receives it.
inline Fd listenLoopback(std::uint16_t& port, int backlog = 16) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket");
  sockaddr_in address = loopback4(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) throwErrno("bind");
  if (::listen(fd.get(), backlog) < 0) throwErrno("listen");
  socklen_t length = sizeof address;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

/// A port on 127.0.0.1 where nothing listens (bound once, then released).
inline std::uint16_t unusedPort() {
  std::uint16_t port = 0;
  Fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = loopback4(0);
  if (::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) throwErrno("bind");
  socklen_t length = sizeof address;
  ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return port;
}

/// Sends all of `data` on a non-blocking socket, waiting (bounded) for room.
inline void sendAll(int fd, std::string_view data, int timeoutMs = 5000) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("send");
    pollfd entry{fd, POLLOUT, 0};
    if (::poll(&entry, 1, timeoutMs) <= 0) throw std::runtime_error("sendAll: timed out");
  }
}

/// Appends what is readable now to `into`. Returns false once the peer closed (EOF or
/// error), true while the connection is open.
inline bool drain(int fd, std::string& into) {
  char buffer[64 * 1024];
  for (;;) {
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      into.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    if (got == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

/// What a drained peer saw at the end: 0 for a clean EOF, else the errno of the failed
/// read (ECONNRESET for a reset); -1 while the connection is still open.
inline int endOfStream(int fd) {
  char byte;
  ssize_t got = ::recv(fd, &byte, 1, MSG_PEEK);
  if (got == 0) return 0;
  if (got > 0) return -1;
  return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : errno;
}

/// Closes with a reset (SO_LINGER 0) instead of a FIN.
inline void resetAndClose(Fd& fd) {
  linger option{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
  fd.reset();
}

/// The port of a socket address (IPv4 or IPv6), 0 for anything else.
inline std::uint16_t portOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return 0;
}

/// The descriptor of this process's connected socket with these local and remote ports,
/// or -1: how a test reaches a socket the framework owns, to set an option on it.
inline int findConnectedSocket(std::uint16_t localPort, std::uint16_t peerPort, int highest = 4096) {
  for (int fd = 0; fd < highest; ++fd) {
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t localLength = sizeof local;
    socklen_t peerLength = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peerLength) != 0) continue;
    if (portOf(local) == localPort && portOf(peer) == peerPort) return fd;
  }
  return -1;
}

/// Bytes from a fixed-seed generator, so failures are reproducible.
inline std::string patternBytes(std::size_t size, std::uint32_t seed) {
  std::string bytes(size, '\0');
  std::uint32_t state = seed ? seed : 1;
  for (char& byte : bytes) {
    state ^= state << 13;  // xorshift32
    state ^= state >> 17;
    state ^= state << 5;
    byte = static_cast<char>(state & 0xff);
  }
  return bytes;
}

}  // namespace torsion_test
