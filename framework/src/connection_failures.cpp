#include "connection_failures.hpp"

#include <torsion/errors.hpp>

#include <unordered_map>

#include "socket_ops.hpp"

namespace torsion::detail {

// Per thread rather than shared: copies of a Failure (a protocol may keep one) touch the
// exception's reference count only, which is atomic, but the map itself is not.
const Failure& connectionDoneFailure() {
  thread_local const Failure done{ConnectionDone()};
  return done;
}

const Failure& connectionLostFailure(int error) {
  thread_local std::unordered_map<int, Failure> byError;
  auto found = byError.find(error);
  if (found == byError.end()) found = byError.emplace(error, Failure(ConnectionLost(errorText(error)))).first;
  return found->second;
}

}  // namespace torsion::detail
