// Internal. Thin helpers over the BSD socket calls that the transports share.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <torsion/address.hpp>

#include <optional>
#include <string>
#include <string_view>

struct addrinfo;

namespace torsion::detail {

/// A socket address big enough for IPv4, IPv6 and Unix paths, with its length.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
};

/// An IPv4 or IPv6 address and port in 28 bytes, for storing per connection.
struct PeerAddress {
  union {
    sockaddr generic;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } storage{};
  /// From a public Address (numeric host); an empty PeerAddress for anything else.
  static PeerAddress from(const Address& address);
  /// Straight from what accept() filled in: no text on the way (AF_INET and AF_INET6;
  /// an empty PeerAddress for anything else).
  static PeerAddress from(const sockaddr* address, socklen_t length);
  /// Back to a public Address (family none if empty).
  Address toAddress() const;
};

/// Parses a numeric IPv4 or IPv6 host (no name resolution). "" means 0.0.0.0.
std::optional<SocketAddress> numericAddress(std::string_view host, std::uint16_t port);
/// The public Address for a socket address.
Address toAddress(const sockaddr* address, socklen_t length);
/// strerror text for an errno value, thread-safe.
std::string errorText(int error);
/// A socket set up as every socket of ours is (non-blocking, close-on-exec, and where
/// the system has it SO_NOSIGPIPE), or -1 with errno set.
int openSocket(int family, int type);
/// accept() on `listening`, the new socket set up as openSocket's; -1 with errno set.
/// `peer` receives the peer's address.
int acceptSocket(int listening, SocketAddress& peer);
/// The entry of a getaddrinfo result that torsion uses: the first IPv4 one if there is
/// any (as Twisted resolves names to IPv4; "localhost" often lists ::1 first, while peers
/// commonly use 127.0.0.1), else the first.
SocketAddress preferredAddress(const addrinfo& found);
/// The address to bind for `interface` (numeric, a host name resolved with AI_PASSIVE,
/// or "" for all IPv4 addresses) and `port`; CannotListenError naming it if none.
SocketAddress bindableAddress(const std::string& interface, std::uint16_t port, int type);
/// Whether other sockets may bind the same address and port.
enum class PortSharing : std::uint8_t {
  exclusive,  ///< the usual: one listening socket per address and port
  reusePort,  ///< SO_REUSEPORT: the kernel spreads connections over all such sockets
};
/// Creates a socket of `type` bound to `interface`:`port` (dual-stack where the system
/// allows for "::"); SO_REUSEADDR for streams. Throws CannotListenError naming the address.
int openBoundSocket(const std::string& interface, std::uint16_t port, int type,
                    PortSharing sharing = PortSharing::exclusive);
/// The AF_UNIX address of `path`, or nullopt if the path is empty or too long.
std::optional<SocketAddress> unixAddress(const std::string& path);
/// The longest Unix socket path the system takes, in bytes.
std::size_t maxUnixPathLength();
/// getsockname / getpeername as Address (family none on failure).
Address localAddress(int fd);
Address peerAddress(int fd);
/// The socket's pending error (SO_ERROR), which reading clears; the errno of getsockopt
/// if that fails. Use ReactorCore::takeSocketError for a watched socket.
int pendingSocketError(int fd);
/// Sets an on/off socket option (an int 1 or 0: TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR...);
/// false with errno if setsockopt fails.
bool setFlagOption(int fd, int level, int name, bool enabled);
/// Reads an on/off socket option; false also if it cannot be read.
bool flagOption(int fd, int level, int name);
/// Sends without ever raising SIGPIPE; returns bytes sent or -1 with errno.
long sendNoSignal(int fd, const void* data, std::size_t size);

}  // namespace torsion::detail
