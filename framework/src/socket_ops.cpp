#include "socket_ops.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace torsion::detail {

std::optional<SocketAddress> numericAddress(std::string_view host, std::uint16_t port) {
  SocketAddress result;
  std::string text(host.empty() ? "0.0.0.0" : host);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
  if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    result.length = sizeof(sockaddr_in);
    return result;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    result.length = sizeof(sockaddr_in6);
    return result;
  }
  return std::nullopt;
}

Address toAddress(const sockaddr* address, socklen_t length) {
  Address result;
  char text[INET6_ADDRSTRLEN] = {};
  if (address == nullptr || length == 0) return result;
  switch (address->sa_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      result = {Address::Family::ipv4, text, ntohs(v4->sin_port)};
      break;
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      result = {Address::Family::ipv6, text, ntohs(v6->sin6_port)};
      break;
    }
    case AF_UNIX: {
      const auto* local = reinterpret_cast<const sockaddr_un*>(address);
      std::size_t pathBytes = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
      result = {Address::Family::unixSocket, std::string(local->sun_path, ::strnlen(local->sun_path, pathBytes)), 0};
      break;
    }
    default: break;
  }
  return result;
}

PeerAddress PeerAddress::from(const Address& address) {
  PeerAddress result;
  if (address.family != Address::Family::ipv4 && address.family != Address::Family::ipv6) return result;
  if (auto numeric = numericAddress(address.host, address.port)) {
    std::memcpy(&result.storage, &numeric->storage, std::min<std::size_t>(numeric->length, sizeof result.storage));
  }
  return result;
}

Address PeerAddress::toAddress() const {
  socklen_t length = storage.generic.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (storage.generic.sa_family != AF_INET && storage.generic.sa_family != AF_INET6) return {};
  return detail::toAddress(&storage.generic, length);
}

std::string errorText(int error) {
  char buffer[256];
  // The GNU strerror_r returns the message (maybe not in buffer); the XSI one fills buffer.
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return ::strerror_r(error, buffer, sizeof buffer);
#else
  if (::strerror_r(error, buffer, sizeof buffer) != 0) return "error " + std::to_string(error);
  return buffer;
#endif
}

int openSocket(int family, int type) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = ::socket(family, type, 0);
  if (fd >= 0) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#if defined(SO_NOSIGPIPE)
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  }
  return fd;
#endif
}

Address localAddress(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (fd < 0 || ::getsockname(fd, address.get(), &address.length) < 0) return {};
  return toAddress(address.get(), address.length);
}

Address peerAddress(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (fd < 0 || ::getpeername(fd, address.get(), &address.length) < 0) return {};
  return toAddress(address.get(), address.length);
}

int pendingSocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return errno;
  return error;
}

long sendNoSignal(int fd, const void* data, std::size_t size) {
#if defined(MSG_NOSIGNAL)
  return ::send(fd, data, size, MSG_NOSIGNAL);
#else
  return ::send(fd, data, size, 0);  // SO_NOSIGPIPE was set when the socket was made
#endif
}

}  // namespace torsion::detail
