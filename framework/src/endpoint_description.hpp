// Internal. Parses Twisted-style endpoint strings ("tcp:8080:interface=127.0.0.1") into a
// type, positional arguments and key=value parameters, checking them against what each
// endpoint type accepts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::detail {

struct EndpointDescription {
  std::string type;                              // "tcp" or "unix"
  std::map<std::string, std::string> arguments;  // positional ones already named
};

/// Parses a server endpoint string: "tcp:PORT[:interface=A][:backlog=N]",
/// "unix:PATH[:backlog=N]". Colons inside a value are escaped with a backslash.
/// @throws std::invalid_argument naming the bad part.
EndpointDescription parseServerEndpoint(std::string_view description);

/// Parses a client endpoint string: "tcp:host=H:port=P[:timeout=S][:bindAddress=A]" (or
/// "tcp:H:P"), "unix:path=PATH[:timeout=S]" (or "unix:PATH").
/// @throws std::invalid_argument naming the bad part.
EndpointDescription parseClientEndpoint(std::string_view description);

/// Helpers for the endpoint factories: a port, a positive number, a count.
std::uint16_t endpointPort(const EndpointDescription& d, const std::string& key);
double endpointSeconds(const EndpointDescription& d, const std::string& key, double fallback);
int endpointCount(const EndpointDescription& d, const std::string& key, int fallback);

}  // namespace torsion::detail
