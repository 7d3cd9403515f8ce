// Internal. Unix domain stream sockets: listening with stale-file recovery.
#pragma once

#include <string>

namespace torsion::detail {

/// Binds and listens on `path`. A socket file left by a dead server (connect is refused)
/// is removed first; a live one is CannotListenError("address in use").
int listenUnixSocket(const std::string& path, int backlog);

}  // namespace torsion::detail
