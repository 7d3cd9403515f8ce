// Internal. Cancelling a timer that may have run or been cancelled already.
#pragma once

#include <torsion/delayed_call.hpp>

namespace torsion::http::detail {

/// Cancels `call` if it is still scheduled, and empties the handle.
inline void cancelTimer(DelayedCall& call) {
  cancelIfActive(call);
  call = DelayedCall();
}

}  // namespace torsion::http::detail
