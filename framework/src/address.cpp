#include <torsion/address.hpp>

namespace torsion {

std::string Address::toString() const {
  switch (family) {
    case Family::ipv4: return host + ":" + std::to_string(port);
    case Family::ipv6: return "[" + host + "]:" + std::to_string(port);
    case Family::unixSocket: return "unix:" + host;
    case Family::none: break;
  }
  return "none";
}

}  // namespace torsion
