#include "unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <torsion/errors.hpp>

#include <cerrno>
#include <cstring>

#include "socket_ops.hpp"

namespace torsion::detail {

namespace {

bool fillAddress(const std::string& path, sockaddr_un& address, socklen_t& length) {
  if (path.empty() || path.size() >= sizeof address.sun_path) return false;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// A socket file whose connect is refused belongs to no live server.
bool isStaleSocketFile(const sockaddr_un& address, socklen_t length) {
  struct stat info {};
  if (::stat(address.sun_path, &info) < 0 || !S_ISSOCK(info.st_mode)) return false;
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  bool refused = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), length) < 0 && errno == ECONNREFUSED;
  ::close(probe);
  return refused;
}

}  // namespace

int listenUnixSocket(const std::string& path, int backlog) {
  sockaddr_un address{};
  socklen_t length = 0;
  if (!fillAddress(path, address, length)) {
    throw CannotListenError(path, 0, "not a usable Unix socket path (empty or longer than " +
                                          std::to_string(sizeof address.sun_path - 1) + " bytes)");
  }
  if (isStaleSocketFile(address, length)) ::unlink(path.c_str());
  int fd = openSocket(AF_UNIX, SOCK_STREAM);
  if (fd < 0) throw CannotListenError(path, 0, errorText(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) < 0 || ::listen(fd, backlog) < 0) {
    int error = errno;
    ::close(fd);
    throw CannotListenError(path, 0, errorText(error));
  }
  return fd;
}

}  // namespace torsion::detail
