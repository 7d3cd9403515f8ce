// Public. succeed, fail, maybeDeferred: Deferreds made from what is already known.
// Included by deferred.hpp.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/failure.hpp>
#include <torsion/result.hpp>

#include <concepts>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

namespace torsion {

/// A Deferred that has already fired with `value` (Twisted's succeed).
/// @code
/// torsion::Deferred<int> d = torsion::succeed(42);
/// @endcode
template <class T>
Deferred<std::decay_t<T>> succeed(T&& value) {
  Deferred<std::decay_t<T>> deferred;
  deferred.callback(std::forward<T>(value));
  return deferred;
}

/// A Deferred<void> that has already fired with success.
inline Deferred<void> succeed() {
  Deferred<void> deferred;
  deferred.callback();
  return deferred;
}

/// A Deferred<T> that has already failed with `failure` (Twisted's fail).
/// @code
/// return torsion::fail<Page>(torsion::ConnectionRefusedError());
/// @endcode
template <class T = void>
Deferred<T> fail(Failure failure) {
  Deferred<T> deferred;
  deferred.errback(std::move(failure));
  return deferred;
}

/// A Deferred<T> that has already failed with the exception `exception`.
// clang-format off
template <class T = void, class E>
  requires std::derived_from<std::decay_t<E>, std::exception>
Deferred<T> fail(E&& exception) {
  // clang-format on
  return fail<T>(Failure(std::forward<E>(exception)));
}

/// Calls `f(args...)` now and gives its outcome as a Deferred (Twisted's maybeDeferred):
/// a returned `Deferred<V>` as it is, a value as a fired `Deferred<V>`, nothing as a fired
/// Deferred<void>, an exception as a failed Deferred.
/// @code
/// torsion::Deferred<Page> d = torsion::maybeDeferred([&] { return cache.lookup(url); });  // may throw
/// @endcode
template <class F, class... Args>
auto maybeDeferred(F&& f, Args&&... args) {
  using R = std::invoke_result_t<F, Args...>;
  static_assert(!std::is_same_v<std::remove_cvref_t<R>, Failure>,
                "maybeDeferred: the function cannot return a Failure (its value type would be unknown); throw, or "
                "return a torsion::Result<U>");
  using U = detail::Unwrapped<R>;
  try {
    if constexpr (detail::IsDeferred<std::remove_cvref_t<R>>::value) {
      // A DeferredList or a gatherResults/race result is handed on as the Deferred it is.
      return Deferred<U>(std::invoke(std::forward<F>(f), std::forward<Args>(args)...));
    } else if constexpr (detail::IsResult<std::remove_cvref_t<R>>::value) {
      Deferred<U> deferred;
      detail::DeferredAccess::fire(deferred, Result<U>(std::invoke(std::forward<F>(f), std::forward<Args>(args)...)));
      return deferred;
    } else if constexpr (std::is_void_v<R>) {
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
      return succeed();
    } else {
      return succeed(std::invoke(std::forward<F>(f), std::forward<Args>(args)...));
    }
  } catch (...) {
    return fail<U>(Failure::current());
  }
}

}  // namespace torsion
