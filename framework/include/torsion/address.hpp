// Public. Address: where a transport's end is (IPv4, IPv6 or a Unix socket path).
#pragma once

#include <cstdint>
#include <string>

namespace torsion {

/// One end of a connection or a listening socket, like Twisted's IPv4Address,
/// IPv6Address and UNIXAddress in one value type.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct Address {
  /// The address family.
  enum class Family : std::uint8_t {
    none,        ///< no address (an unconnected or closed transport)
    ipv4,        ///< IPv4: host is dotted-quad text
    ipv6,        ///< IPv6: host is text without brackets
    unixSocket,  ///< Unix domain socket: host holds the path, port is 0
  };

  Family family = Family::none;  ///< which kind of address this is
  std::string host;              ///< numeric host text, or the socket path for unixSocket
  std::uint16_t port = 0;        ///< port number (0 for unixSocket)

  /// "127.0.0.1:8000", "[::1]:8000", "unix:/path", or "none".
  std::string toString() const;

  /// Equal when family, host and port are equal.
  friend bool operator==(const Address&, const Address&) = default;
};

}  // namespace torsion
