// Public only because Deferred<T> is a template over it: how typed callbacks become the
// steps of the type-erased chain. Not part of the API; it may change without notice.
#pragma once

#include <torsion/detail/deferred_chain.hpp>
#include <torsion/failure.hpp>
#include <torsion/result.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace torsion {

template <class T>
class Deferred;

namespace detail {

template <class...>
inline constexpr bool alwaysFalse = false;

// Never defined: overload resolution finds the Deferred<V> a type is or derives from
// (DeferredList, a gatherResults or race result), so all of them are waited for alike.
template <class V>
std::type_identity<V> deferredBaseOf(const Deferred<V>*);

/// True for `Deferred<V>` and every type derived from one.
template <class T>
    struct IsDeferred : std::bool_constant < requires {
  deferredBaseOf(static_cast<T*>(nullptr));
} > {};

/// The value type V of a type that is or derives from `Deferred<V>`.
template <class T>
using DeferredValueOf = typename decltype(deferredBaseOf(static_cast<T*>(nullptr)))::type;

/// Stands in for the value parameter of Deferred<void>::callback, which has none.
struct NoValue {};

/// The value type a chain carries after a callback that returned R: `Deferred<V>` and
/// `Result<V>` mean V, anything else means itself.
template <class R>
struct Unwrap {
  using type = R;
};
template <class R>
requires IsDeferred<R>::value struct Unwrap<R> {
  using type = DeferredValueOf<R>;
};
template <class V>
struct Unwrap<Result<V>> {
  using type = V;
};
template <class R>
using Unwrapped = typename Unwrap<std::remove_cvref_t<R>>::type;

/// A callback for a Deferred<T> takes its value as T&&, T& (so by value, by reference or
/// auto all work) or, for Deferred<void>, nothing.
template <class F, class T>
inline constexpr bool takesValue = std::is_invocable_v<F&, T&&> || std::is_invocable_v<F&, T&>;
template <class F>
inline constexpr bool takesValue<F, void> = std::is_invocable_v<F&>;

template <class F>
inline constexpr bool takesFailure = std::is_invocable_v<F&, Failure&&> || std::is_invocable_v<F&, Failure&>;

template <class F, class T>
inline constexpr bool takesResult = std::is_invocable_v<F&, Result<T>&&> || std::is_invocable_v<F&, Result<T>&>;

template <class T, class F>
decltype(auto) callWithValue(F& f, Chain& chain) {
  if constexpr (std::is_void_v<T>) {
    return std::invoke(f);
  } else if constexpr (std::is_invocable_v<F&, T&&>) {
    return std::invoke(f, std::move(chain.box().get<T>()));
  } else {
    return std::invoke(f, chain.box().get<T>());
  }
}

template <class F>
decltype(auto) callWithFailure(F& f, Failure& failure) {
  if constexpr (std::is_invocable_v<F&, Failure&&>) {
    return std::invoke(f, std::move(failure));
  } else {
    return std::invoke(f, failure);
  }
}

template <class T, class F>
decltype(auto) callWithResult(F& f, Result<T>& result) {
  if constexpr (std::is_invocable_v<F&, Result<T>&&>) {
    return std::invoke(f, std::move(result));
  } else {
    return std::invoke(f, result);
  }
}

template <class F, class T>
using ValueCallResult = decltype(callWithValue<T>(std::declval<F&>(), std::declval<Chain&>()));
template <class F>
using FailureCallResult = decltype(callWithFailure(std::declval<F&>(), std::declval<Failure&>()));
template <class F, class T>
using ResultCallResult = decltype(callWithResult<T>(std::declval<F&>(), std::declval<Result<T>&>()));

/// True if an errback returning R can end the error path of a chain carrying U: with a
/// U (recovery), a Failure (still failed), a `Result<U>` or a `Deferred<U>`; void only for U
/// = void.
template <class R, class U>
inline constexpr bool errbackFits = [] {
  using Rd = std::remove_cvref_t<R>;
  if constexpr (std::is_void_v<Rd>) {
    return std::is_void_v<U>;
  } else if constexpr (std::is_same_v<Rd, Failure> || std::is_same_v<Rd, Result<U>>) {
    return true;
  } else if constexpr (IsDeferred<Rd>::value) {
    return std::is_same_v<DeferredValueOf<Rd>, U>;
  } else if constexpr (std::is_void_v<U> || IsResult<Rd>::value) {
    return false;
  } else {
    return std::is_convertible_v<R, U>;
  }
}();

/// Gives the typed layer access to a handle's chain.
struct DeferredAccess {
  template <class T>
  static const std::shared_ptr<Chain>& chain(const Deferred<T>& deferred) noexcept {
    return deferred.chain_;
  }
  template <class T>
  static Deferred<T> wrap(std::shared_ptr<Chain> chain) noexcept {
    return Deferred<T>(std::move(chain));
  }
  template <class T>
  static void fire(Deferred<T>& deferred, Result<T>&& result) {
    deferred.fire(std::move(result));
  }
};

[[noreturn]] void throwEmptyDeferred(const char* operation);
[[noreturn]] void throwStaleHandle(const char* operation, const TypeTag& handle, const TypeTag& chain);
[[noreturn]] void throwWrongInput(const TypeTag& handle, const TypeTag& input);
[[noreturn]] void throwResultTaken(const TypeTag& type);

/// The chain a callback's returned `Deferred<V>` names, checked to carry a V now.
template <class V>
std::shared_ptr<Chain> chainToWaitFor(const Deferred<V>& deferred) {
  const std::shared_ptr<Chain>& chain = DeferredAccess::chain(deferred);
  if (!chain) throwEmptyDeferred("returned from a callback");
  if (&chain->tailType() != &typeTag<V>) throwStaleHandle("returned from a callback", typeTag<V>, chain->tailType());
  return chain;
}

/// Makes `result` (what a callback returned, already decayed) the chain's result, or
/// returns the chain to wait for when it is a Deferred.
template <class U, class R>
std::shared_ptr<Chain> store(Chain& chain, R&& result) {
  using Rd = std::remove_cvref_t<R>;
  if constexpr (IsDeferred<Rd>::value) {
    return chainToWaitFor(static_cast<const Deferred<DeferredValueOf<Rd>>&>(result));
  } else if constexpr (IsResult<Rd>::value) {
    if (result.failed()) {
      chain.setFailure(std::move(result).failure());
    } else if constexpr (std::is_void_v<U>) {
      chain.setVoid();
    } else {
      chain.setValue<U>(std::move(result).value());
    }
  } else if constexpr (std::is_same_v<Rd, Failure>) {
    chain.setFailure(std::forward<R>(result));
  } else {
    chain.setValue<U>(std::forward<R>(result));
  }
  return nullptr;
}

/// Calls `call` and stores what it returns as a U. A returned reference may point into
/// the chain's current value, so it is copied out before that value is replaced.
template <class U, class Call>
std::shared_ptr<Chain> callAndStore(Chain& chain, Call&& call) {
  using R = decltype(call());
  if constexpr (std::is_void_v<R>) {
    call();
    chain.setVoid();
    return nullptr;
  } else if constexpr (std::is_reference_v<R>) {
    std::remove_cvref_t<R> local(call());
    return store<U>(chain, std::move(local));
  } else {
    return store<U>(chain, call());
  }
}

/// Marks the "callback" or "errback" half of a pair that lets the result through.
struct PassThrough {};

/// A (callback, errback) pair on a chain carrying T, leaving a U. Either half may be
/// PassThrough.
template <class T, class U, class Cb, class Eb>
class PairStep final : public Step {
 public:
  PairStep(Cb callback, Eb errback) : callback_(std::move(callback)), errback_(std::move(errback)) {}

  std::shared_ptr<Chain> run(Chain& chain) noexcept override {
    try {
      switch (chain.kind()) {
        case ResultKind::value: return onValue(chain);
        case ResultKind::failure: return onFailure(chain);
        case ResultKind::consumed:
          // A chain whose result was handed on holds Twisted's None: success for void.
          if constexpr (std::is_void_v<T>) return onValue(chain);
          return nullptr;
        case ResultKind::none: return nullptr;
      }
    } catch (...) {
      chain.setFailure(Failure::current());
    }
    return nullptr;
  }

 private:
  std::shared_ptr<Chain> onValue(Chain& chain) {
    if constexpr (std::is_same_v<Cb, PassThrough>) {
      return nullptr;
    } else {
      return callAndStore<U>(chain, [&]() -> decltype(auto) { return callWithValue<T>(callback_, chain); });
    }
  }

  std::shared_ptr<Chain> onFailure(Chain& chain) {
    if constexpr (std::is_same_v<Eb, PassThrough>) {
      return nullptr;
    } else {
      return callAndStore<U>(chain, [&]() -> decltype(auto) { return callWithFailure(errback_, chain.failure()); });
    }
  }

  [[no_unique_address]] Cb callback_;
  [[no_unique_address]] Eb errback_;
};

/// Takes the chain's current result out as a Result<T>, leaving the chain consumed.
/// @throws std::logic_error when a non-void result was already handed on.
template <class T>
Result<T> takeResult(Chain& chain) {
  switch (chain.kind()) {
    case ResultKind::failure: {
      Result<T> result(std::move(chain.failure()));
      chain.setConsumed();
      return result;
    }
    case ResultKind::value:
      if constexpr (!std::is_void_v<T>) {
        Result<T> result(std::move(chain.box().get<T>()));
        chain.setConsumed();
        return result;
      } else {
        chain.setConsumed();
        return Result<T>();
      }
    case ResultKind::consumed:
    case ResultKind::none: break;
  }
  if constexpr (std::is_void_v<T>) {
    return Result<T>();
  } else {
    throwResultTaken(typeTag<T>);
  }
}

/// An addBoth callback on a chain carrying T, leaving a U.
template <class T, class U, class F>
class BothStep final : public Step {
 public:
  explicit BothStep(F callback) : callback_(std::move(callback)) {}

  std::shared_ptr<Chain> run(Chain& chain) noexcept override {
    try {
      if constexpr (!std::is_void_v<T>) {
        if (chain.kind() == ResultKind::consumed) return nullptr;
      }
      Result<T> result = takeResult<T>(chain);
      return callAndStore<U>(chain, [&]() -> decltype(auto) { return callWithResult<T>(callback_, result); });
    } catch (...) {
      chain.setFailure(Failure::current());
    }
    return nullptr;
  }

 private:
  F callback_;
};

/// A step for torsion's own helpers (DeferredList, awaiting, ...), which work on the
/// chain directly: `f(chain)` returns nothing.
template <class F>
class RawStep final : public Step {
 public:
  explicit RawStep(F f) : f_(std::move(f)) {}
  std::shared_ptr<Chain> run(Chain& chain) noexcept override {
    try {
      f_(chain);
    } catch (...) {
      chain.setFailure(Failure::current());
    }
    return nullptr;
  }

 private:
  F f_;
};

}  // namespace detail
}  // namespace torsion
