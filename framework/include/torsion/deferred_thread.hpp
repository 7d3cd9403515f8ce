// Public. deferToThread: run a blocking function on the reactor's thread pool.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/reactor_interfaces.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace torsion {

/// Runs `fn()` on `reactor`'s thread pool (IReactorThreads::callInThread) and fires the returned
/// Deferred on the reactor's thread (through IReactorThreads::callFromThread) with fn's value,
/// or its failure if it throws (Twisted's threads.deferToThread).
///
/// `fn` must not touch the reactor or any Deferred: it runs on another thread. Call this
/// on the reactor's thread; the Deferred's callbacks run there, during the reactor's
/// loop. The thread cannot be stopped: cancel() errbacks the Deferred with
/// CancelledError and the late result is dropped.
/// @param reactor the reactor whose pool runs `fn` and whose thread gets the result (a
/// Reactor, or a testing::MemoryReactor whose test runs the job and the result).
/// @param fn a function taking no arguments; it may be move-only.
/// @return a Deferred of fn's result (Deferred<void> if it returns nothing).
/// @code
/// torsion::deferToThread(reactor, [path] { return readWholeFile(path); })  // blocking I/O
///     .addCallback([](std::string contents) { ... });                        // back on the loop
/// @endcode
template <class F>
auto deferToThread(IReactorThreads& reactor, F&& fn) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "deferToThread: the function must be callable with no arguments");
  using R = std::invoke_result_t<Fn&>;
  static_assert(!detail::IsDeferred<std::remove_cvref_t<R>>::value,
                "deferToThread: the function runs on another thread and cannot return a Deferred");
  using V = std::remove_cvref_t<R>;
  Deferred<V> deferred;
  // std::function needs copyable targets: share the function and the outcome instead
  // of copying them, so move-only ones work too.
  auto function = std::make_shared<Fn>(std::forward<F>(fn));
  reactor.callInThread([&reactor, function, chain = detail::DeferredAccess::chain(deferred)]() mutable {
    auto outcome = std::make_shared<std::optional<Result<V>>>();
    try {
      if constexpr (std::is_void_v<V>) {
        (*function)();
        outcome->emplace();
      } else {
        outcome->emplace((*function)());
      }
    } catch (...) {
      outcome->emplace(Failure::current());
    }
    function.reset();  // the function's captures die here, on the pool's thread
    reactor.callFromThread([chain = std::move(chain), outcome]() mutable {
      Deferred<V> target = detail::DeferredAccess::wrap<V>(std::move(chain));
      detail::DeferredAccess::fire(target, std::move(**outcome));
    });
  });
  return deferred;
}

}  // namespace torsion
