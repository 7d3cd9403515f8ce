// Internal. logUnhandled: how torsion reports an exception that escaped user code and
// that nobody else can receive (a callback of a protocol, a timer, a thread-pool job).
#pragma once

#include <exception>

namespace torsion::detail {

/// Logs `exception`, which escaped user code in `where`, as an error.
void logUnhandled(const char* where, std::exception_ptr exception);

}  // namespace torsion::detail
