// Internal. The Failures a connection ends with, built once and shared: a Failure is
// immutable, and building one (an exception object, a rethrow to read its type, three
// strings) cost more than the rest of a connection's set-up and tear-down together.
#pragma once

#include <torsion/failure.hpp>

namespace torsion::detail {

/// The Failure of a connection that was closed cleanly (ConnectionDone, Twisted's
/// wording). One per thread, alive until the thread ends.
const Failure& connectionDoneFailure();

/// The Failure of a connection lost with the system error `error` (ConnectionLost with
/// the error's text). One per thread and error number, made on first use.
const Failure& connectionLostFailure(int error);

}  // namespace torsion::detail
