#include "reactor_signals.hpp"

#include <atomic>

namespace torsion::detail {

namespace {

// Only what a signal handler may touch: lock-free atomics and a waker whose wake() is a
// single write(2).
std::atomic<const ThreadCalls*> owner{nullptr};
std::atomic<int> pendingSignal{0};
struct sigaction previousInt;
struct sigaction previousTerm;

extern "C" void onStopSignal(int signal) {
  pendingSignal.store(signal, std::memory_order_relaxed);
  if (const ThreadCalls* waker = owner.load(std::memory_order_acquire)) waker->wake();
}

}  // namespace

bool claimSignals(const ThreadCalls& waker) {
  const ThreadCalls* expected = nullptr;
  if (!owner.compare_exchange_strong(expected, &waker)) return false;
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previousInt);
  sigaction(SIGTERM, &action, &previousTerm);
  return true;
}

void releaseSignals() {
  sigaction(SIGINT, &previousInt, nullptr);
  sigaction(SIGTERM, &previousTerm, nullptr);
  owner.store(nullptr, std::memory_order_release);
}

int takePendingSignal() { return pendingSignal.exchange(0, std::memory_order_relaxed); }

bool signalPending() { return pendingSignal.load(std::memory_order_relaxed) != 0; }

}  // namespace torsion::detail
