// Internal. throwSystemError: a failed system call as std::system_error, for the
// backends and the waker alike.
#pragma once

namespace torsion::detail {

/// Throws std::system_error for the current errno, naming the call.
[[noreturn]] void throwSystemError(const char* what);

}  // namespace torsion::detail
