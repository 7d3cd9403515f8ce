#include "unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <torsion/errors.hpp>

#include <cerrno>

#include "socket_ops.hpp"

namespace torsion::detail {

namespace {

// A socket file whose connect is refused belongs to no live server.
bool isStaleSocketFile(const std::string& path, const SocketAddress& address) {
  struct stat info {};
  if (::stat(path.c_str(), &info) < 0 || !S_ISSOCK(info.st_mode)) return false;
  int probe = openSocket(AF_UNIX, SOCK_STREAM);
  if (probe < 0) return false;
  // Non-blocking: a Unix socket connect either completes, or fails at once.
  bool refused = ::connect(probe, address.get(), address.length) < 0 && errno == ECONNREFUSED;
  ::close(probe);
  return refused;
}

}  // namespace

int listenUnixSocket(const std::string& path, int backlog) {
  const auto address = unixAddress(path);
  if (!address) {
    throw CannotListenError(
        path, "not a usable Unix socket path (empty or longer than " + std::to_string(maxUnixPathLength()) + " bytes)");
  }
  if (isStaleSocketFile(path, *address)) ::unlink(path.c_str());
  int fd = openSocket(AF_UNIX, SOCK_STREAM);
  if (fd < 0) throw CannotListenError(path, errorText(errno));
  if (::bind(fd, address->get(), address->length) < 0 || ::listen(fd, backlog) < 0) {
    int error = errno;
    ::close(fd);
    throw CannotListenError(path, errorText(error));
  }
  return fd;
}

}  // namespace torsion::detail
