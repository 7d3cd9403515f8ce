// Public. deferLater: a Deferred that fires after a delay on a clock.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/delayed_call.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace torsion {

/// A Deferred<void> that fires `seconds` from now on `clock` (Twisted's task.deferLater
/// without a function). Cancelling it before then cancels the scheduled call and
/// errbacks with CancelledError.
/// @param clock the Reactor, or a testing::Clock in tests.
/// @param seconds the delay.
inline Deferred<void> deferLater(IReactorTime& clock, double seconds) {
  auto call = std::make_shared<DelayedCall>();
  Deferred<void> deferred([call](Deferred<void>&) { cancelIfActive(*call); });
  *call = clock.callLater(seconds, [deferred]() mutable { deferred.callback(); });
  return deferred;
}

/// Calls `fn()` `seconds` from now on `clock` and gives its outcome as a Deferred
/// (Twisted's task.deferLater): its value, its failure if it throws, or, if it returns
/// a `Deferred<V>`, that Deferred's outcome. Cancelling before the delay has passed
/// cancels the call: `fn` never runs and the Deferred fails with CancelledError.
/// @param clock the Reactor, or a testing::Clock in tests.
/// @param seconds the delay.
/// @param fn what to call; takes no arguments.
/// @return a Deferred of fn's outcome.
/// @code
/// torsion::deferLater(reactor, 1.5, [] { return 42; })
///     .addCallback([](int n) { torsion::log::info("got {}", n); });
/// @endcode
template <class F>
auto deferLater(IReactorTime& clock, double seconds, F&& fn) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "deferLater: the function must be callable with no arguments");
  return deferLater(clock, seconds).addCallback(std::forward<F>(fn));
}

}  // namespace torsion
