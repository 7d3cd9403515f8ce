// Internal. SIGINT/SIGTERM handling for the one reactor that owns main's signals.
#pragma once

#include <csignal>

#include "thread_calls.hpp"

namespace torsion::detail {

/// Installs handlers for SIGINT and SIGTERM that wake `waker`'s loop. Returns false
/// (and installs nothing) if another running reactor owns the signals already.
bool claimSignals(const ThreadCalls& waker);
/// Restores the handlers that were there before claimSignals.
void releaseSignals();
/// The signal received since the last call (0 if none), clearing it.
int takePendingSignal();
/// True if a signal is waiting to be taken.
bool signalPending();

}  // namespace torsion::detail
