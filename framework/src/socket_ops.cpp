#include "socket_ops.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/un.h>
#include <unistd.h>

#include <torsion/errors.hpp>

#include <algorithm>
#include <cerrno>
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

namespace {

// Dotted-quad text of an IPv4 address. glibc's inet_ntop formats IPv4 with sprintf, which
// was the largest single cost of accepting a connection (every accept builds the peer's
// Address for Factory::buildProtocol).
std::string ipv4Text(const in_addr& address) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(&address.s_addr);  // network order
  char text[INET_ADDRSTRLEN];
  char* out = text;
  for (int i = 0; i < 4; ++i) {
    unsigned value = bytes[i];
    if (value >= 100) *out++ = static_cast<char>('0' + value / 100);
    if (value >= 10) *out++ = static_cast<char>('0' + value / 10 % 10);
    *out++ = static_cast<char>('0' + value % 10);
    if (i < 3) *out++ = '.';
  }
  return std::string(text, static_cast<std::size_t>(out - text));
}

}  // namespace

Address toAddress(const sockaddr* address, socklen_t length) {
  Address result;
  char text[INET6_ADDRSTRLEN] = {};
  if (address == nullptr || length == 0) return result;
  switch (address->sa_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
      result = {Address::Family::ipv4, ipv4Text(v4->sin_addr), ntohs(v4->sin_port)};
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

PeerAddress PeerAddress::from(const sockaddr* address, socklen_t length) {
  // Copies of a fixed size, which the compiler turns into a few moves: this runs for
  // every accepted connection.
  PeerAddress result;
  if (address == nullptr) return result;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    std::memcpy(&result.storage.v4, address, sizeof(sockaddr_in));
  } else if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    std::memcpy(&result.storage.v6, address, sizeof(sockaddr_in6));
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

namespace {

// The one place that decides how a socket of ours is set up. Where the system makes a
// socket non-blocking and close-on-exec atomically (SOCK_NONBLOCK, accept4), `flagsSet`
// says so; SO_NOSIGPIPE is set wherever it exists, since such systems have no
// MSG_NOSIGNAL (see sendNoSignal).
int prepareSocket(int fd, [[maybe_unused]] bool flagsSet) {
  if (fd < 0) return fd;
  if (!flagsSet) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
#if defined(SO_NOSIGPIPE)
  setFlagOption(fd, SOL_SOCKET, SO_NOSIGPIPE, true);
#endif
  return fd;
}

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
constexpr bool kAtomicFlags = true;
#else
constexpr bool kAtomicFlags = false;
#endif

}  // namespace

int openSocket(int family, int type) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return prepareSocket(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), kAtomicFlags);
#else
  return prepareSocket(::socket(family, type, 0), kAtomicFlags);
#endif
}

int acceptSocket(int listening, SocketAddress& peer) {
  peer.length = sizeof peer.storage;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return prepareSocket(::accept4(listening, peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC), kAtomicFlags);
#else
  return prepareSocket(::accept(listening, peer.get(), &peer.length), kAtomicFlags);
#endif
}

SocketAddress preferredAddress(const addrinfo& found) {
  const addrinfo* chosen = &found;
  for (const addrinfo* entry = &found; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family == AF_INET) {
      chosen = entry;
      break;
    }
  }
  SocketAddress result;
  std::memcpy(&result.storage, chosen->ai_addr, chosen->ai_addrlen);
  result.length = chosen->ai_addrlen;
  return result;
}

SocketAddress bindableAddress(const std::string& interface, std::uint16_t port, int type) {
  if (auto numeric = numericAddress(interface, port)) return *numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int status = ::getaddrinfo(interface.c_str(), service.c_str(), &hints, &found);
  if (status != 0 || found == nullptr) {
    const std::string reason = status == EAI_SYSTEM ? errorText(errno) : ::gai_strerror(status);
    throw CannotListenError(interface, port, "the host name '" + interface + "' does not resolve: " + reason);
  }
  const SocketAddress result = preferredAddress(*found);
  ::freeaddrinfo(found);
  return result;
}

int openBoundSocket(const std::string& interface, std::uint16_t port, int type, PortSharing sharing) {
  const SocketAddress address = bindableAddress(interface, port, type);
  int fd = openSocket(address.family(), type);
  if (fd < 0) throw CannotListenError(interface, port, errorText(errno));
  if (type == SOCK_STREAM) setFlagOption(fd, SOL_SOCKET, SO_REUSEADDR, true);
  if (sharing == PortSharing::reusePort) {
#if defined(SO_REUSEPORT)
    if (!setFlagOption(fd, SOL_SOCKET, SO_REUSEPORT, true)) {
      const int error = errno;
      ::close(fd);
      throw CannotListenError(interface, port, "SO_REUSEPORT: " + errorText(error));
    }
#else
    ::close(fd);
    throw CannotListenError(interface, port, "SO_REUSEPORT is not available on this system");
#endif
  }
  // "::" takes IPv4 too, where the system allows dual-stack sockets.
  if (address.family() == AF_INET6) setFlagOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, false);
  if (::bind(fd, address.get(), address.length) < 0) {
    const int error = errno;
    ::close(fd);
    throw CannotListenError(interface, port, errorText(error));
  }
  return fd;
}

std::optional<SocketAddress> unixAddress(const std::string& path) {
  if (path.empty() || path.size() > maxUnixPathLength()) return std::nullopt;
  SocketAddress result;
  auto* local = reinterpret_cast<sockaddr_un*>(&result.storage);
  local->sun_family = AF_UNIX;
  std::memcpy(local->sun_path, path.c_str(), path.size() + 1);
  result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return result;
}

std::size_t maxUnixPathLength() { return sizeof(sockaddr_un::sun_path) - 1; }

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

bool setFlagOption(int fd, int level, int name, bool enabled) {
  const int value = enabled ? 1 : 0;
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

bool flagOption(int fd, int level, int name) {
  int value = 0;
  socklen_t length = sizeof value;
  return ::getsockopt(fd, level, name, &value, &length) == 0 && value != 0;
}

long sendNoSignal(int fd, const void* data, std::size_t size) {
#if defined(MSG_NOSIGNAL)
  return ::send(fd, data, size, MSG_NOSIGNAL);
#else
  return ::send(fd, data, size, 0);  // SO_NOSIGPIPE was set when the socket was made
#endif
}

}  // namespace torsion::detail
