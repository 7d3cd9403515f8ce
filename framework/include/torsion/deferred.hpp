// Public. Deferred<T>: a typed callback chain with the semantics of Twisted's Deferred.
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/detail/deferred_chain.hpp>
#include <torsion/detail/deferred_steps.hpp>
#include <torsion/errors.hpp>
#include <torsion/failure.hpp>
#include <torsion/result.hpp>

#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace torsion {

namespace detail {
template <class T>
class DeferredPromise;
std::string timeoutMessage(double seconds);
/// The common base of every Deferred<T>, so templates can recognise one.
struct DeferredTag {};
}  // namespace detail

/// A result that is not there yet: a chain of callbacks and errbacks that run, in order,
/// once someone calls callback() or errback() — Twisted's Deferred, with types.
///
/// A Deferred<T> is a handle: copies refer to the same chain. Each step of the chain is
/// a (callback, errback) pair. Exactly one half of each pair runs: the callback if the
/// chain holds a value, the errback if it holds a Failure. A callback that throws sends
/// the chain down the error path; an errback that returns a value brings it back.
///
/// ```
///   d.callback(21)           value ─► cb1 ──► cb2 ──┐   throws      ┌──► cb4 ──►
///   addCallback(cb1)                                └─► eb3 ─ returns ┘
///   addCallback(cb2)         failure ────────────────────► eb3 (recovers)
///   addErrback(eb3)
///   addCallback(cb4)
/// ```
///
/// Types follow the chain: `addCallback(f)` returns a `Deferred<U>` where U is what f
/// returns (a returned `Deferred<V>` or `Result<V>` means V, nothing means void). The handle
/// it returns names the same chain, so `d2 = d.addCallback(f)` makes `d2` and `d` the same
/// Deferred, as in Twisted. A callback that cannot take the chain's value is a compile
/// error. Adding to a handle whose type the chain has left behind (adding to `d` after
/// `d.addCallback(int -> string)`), or firing through a handle of another type than the
/// one the chain began with, throws std::logic_error.
///
/// A callback returning a Deferred that has not fired pauses this chain until that one
/// fires, then goes on with its result. Callbacks added to a chain that has fired run at
/// once; a callback added from inside a running callback runs after the current one.
/// Long chains, and long runs of Deferreds waiting on each other, run in constant stack.
///
/// If the last handle to a chain goes while the chain holds a Failure, it is logged at
/// error level as "Unhandled error in Deferred: <type>: <message>".
///
/// Not thread-safe: use a Deferred on one thread (see deferToThread to cross threads).
///
/// @code
/// torsion::Deferred<int> d;
/// d.addCallback([](int n) { return std::to_string(n * 2); })        // Deferred<std::string>
///  .addCallback([](const std::string& s) { return fetchMore(s); })    // waits for a Deferred<Page>
///  .addErrback([](const torsion::Failure& f) { return Page::empty(); }) // recovers
///  .addBoth([&](const torsion::Result<Page>& r) { reactor.stop(); });
/// d.callback(21);
/// @endcode
///
/// @tparam T the type of the value the chain carries at this point; void for none.
///
/// Thread safety: use from one thread at a time (the one that owns its chain); copies share the chain. See
/// docs/deferred.md.
template <class T>
class Deferred : public detail::DeferredTag {
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "Deferred<T>: T must be a plain object type or void (no reference, no const)");
  static_assert(!detail::IsDeferred<T>::value,
                "Deferred<Deferred<T>> is not allowed: a Deferred returned from a callback is waited for, so the "
                "chain carries its value T");
  static_assert(!detail::IsResult<T>::value && !std::is_same_v<T, Failure>,
                "Deferred<Result<T>> and Deferred<Failure> are not allowed: a chain already carries a value or a "
                "Failure");

  using Value = std::conditional_t<std::is_void_v<T>, detail::NoValue, T>;

 public:
  /// The type of the value the chain carries at this point (void for none).
  using value_type = T;

  /// Lets a coroutine return Deferred<T> (see deferred_coroutine.hpp).
  using promise_type = detail::DeferredPromise<T>;

  /// Called by cancel() before the Deferred has fired, with the Deferred itself. It
  /// should stop the operation and may fire the Deferred; if it does not, cancel()
  /// errbacks with CancelledError.
  using Canceller = std::function<void(Deferred<T>&)>;

  /// What addTimeout calls instead of turning CancelledError into TimeoutError:
  /// receives the outcome and the timeout in seconds, returns the outcome to go on with.
  using TimeoutHandler = std::function<Result<T>(Result<T>, double)>;

  /// A new Deferred that has not fired, without a canceller.
  Deferred() : chain_(detail::Chain::create(detail::typeTag<T>)) {}

  /// Another handle to the same chain.
  Deferred(const Deferred& other) = default;
  /// Takes over `other`'s chain; `other` is left empty.
  Deferred(Deferred&& other) noexcept = default;
  /// Makes this a handle to `other`'s chain, letting go of its own.
  Deferred& operator=(const Deferred& other) {
    if (this != &other) {
      release();
      chain_ = other.chain_;
    }
    return *this;
  }
  /// Takes over `other`'s chain, letting go of its own; `other` is left empty.
  Deferred& operator=(Deferred&& other) noexcept {
    if (this != &other) {
      release();
      chain_ = std::move(other.chain_);
    }
    return *this;
  }
  /// Lets go of the chain. When what is left of it are only the Deferreds waiting on
  /// it (see cancel()), it stops keeping them alive, so the two can be freed.
  ~Deferred() { release(); }

  /// A new Deferred that has not fired; cancel() calls `canceller`.
  /// @code
  /// torsion::Deferred<Bytes> d([call](torsion::Deferred<Bytes>&) { call.cancel(); });
  /// @endcode
  explicit Deferred(Canceller canceller) : Deferred() {
    if (!canceller) return;
    chain_->setCanceller([canceller = std::move(canceller)](detail::Chain& chain) {
      Deferred<T> self(chain.shared_from_this());
      canceller(self);
      return false;
    });
  }

  /// Fires the chain with `value`: the first callback runs now.
  /// @throws AlreadyCalledError if the Deferred has already fired (except the first
  /// time after cancel() on a Deferred without a canceller: that result is dropped).
  /// @throws std::logic_error if this handle came from addCallback and the chain's
  /// input is another type: fire the Deferred the chain began as.
  // clang-format off
  void callback(Value value)
    requires(!std::is_void_v<T>)
  {
    // clang-format on
    std::shared_ptr<detail::Chain> chain = requireInput();
    if (!chain->beginFire()) return;
    chain->template setValue<T>(std::move(value));
    chain->finishFire();
  }

  /// Fires a Deferred<void> with success: the first callback runs now.
  /// @throws AlreadyCalledError as callback(value).
  // clang-format off
  void callback()
    requires std::is_void_v<T>
  {
    // clang-format on
    std::shared_ptr<detail::Chain> chain = requireInput();
    if (!chain->beginFire()) return;
    chain->setVoid();
    chain->finishFire();
  }

  /// Fires the chain with a failure: the first errback runs now.
  /// @throws AlreadyCalledError as callback().
  void errback(Failure failure) {
    std::shared_ptr<detail::Chain> chain = requireChain("errback");
    if (!chain->beginFire()) return;
    chain->setFailure(std::move(failure));
    chain->finishFire();
  }

  /// Fires the chain with a failure made from an exception object, such as
  /// `d.errback(torsion::ConnectionRefusedError())`.
  // clang-format off
  template <class E>
    requires std::derived_from<std::decay_t<E>, std::exception>
  void errback(E&& exception) {
    // clang-format on
    errback(Failure(std::forward<E>(exception)));
  }

  /// Fires the chain with a failure made from a captured exception.
  void errback(std::exception_ptr exception) { errback(Failure(std::move(exception))); }

  /// Fires the chain with the exception being handled; call inside a catch block.
  void errback() { errback(Failure::current()); }

  /// Adds a callback; its errback half lets failures through.
  ///
  /// `f` receives the value (as T, const T&, T& or T&&; nothing for Deferred<void>) and
  /// may return: a U, to go on with; a `Deferred<U>`, to wait for it; a `Result<U>`, to
  /// choose the path without throwing; nothing, to go on with void. Throwing switches
  /// to the error path.
  /// @return the same Deferred, typed by what `f` returns.
  template <class F>
  auto addCallback(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (!detail::takesValue<Fn, T>) {
      static_assert(detail::alwaysFalse<Fn>,
                    "Deferred<T>::addCallback: the callback cannot be called with the chain's value. A Deferred<T> "
                    "passes a T (take T, const T&, T&& or auto); a Deferred<void> passes nothing");
      return *this;
    } else {
      using R = detail::ValueCallResult<Fn, T>;
      static_assert(!std::is_same_v<std::remove_cvref_t<R>, Failure>,
                    "Deferred<T>::addCallback: a callback cannot return a Failure, because the type of the value "
                    "after it would be unknown; throw instead, or return torsion::Result<U>");
      using U = detail::Unwrapped<R>;
      return attach<U>(detail::PairStep<T, U, Fn, detail::PassThrough>(std::forward<F>(f), {}), "addCallback");
    }
  }

  /// Adds an errback; its callback half lets values through.
  ///
  /// `f` receives the Failure (as const Failure&, Failure or Failure&&) and may return:
  /// a T, to recover; a Failure (or rethrow, or throw anything), to stay on the error
  /// path; a Result<T> or a Deferred<T>. On a Deferred<void> it may return nothing, to
  /// recover.
  /// @return the same Deferred.
  template <class F>
  Deferred<T> addErrback(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (!detail::takesFailure<Fn>) {
      static_assert(detail::alwaysFalse<Fn>,
                    "Deferred<T>::addErrback: the errback must take the failure: const torsion::Failure&, "
                    "torsion::Failure or torsion::Failure&&");
      return *this;
    } else {
      checkErrbackResult<detail::FailureCallResult<Fn>, T>();
      return attach<T>(detail::PairStep<T, T, detail::PassThrough, Fn>({}, std::forward<F>(f)), "addErrback");
    }
  }

  /// Adds a callback and an errback as one step: exactly one of them runs, so the
  /// errback does not see an exception thrown by the callback (Twisted's addCallbacks).
  /// The errback must leave the chain with the callback's type: see addErrback.
  /// @return the same Deferred, typed by what `callback` returns.
  template <class Cb, class Eb>
  auto addCallbacks(Cb&& callback, Eb&& errback) {
    using CbFn = std::decay_t<Cb>;
    using EbFn = std::decay_t<Eb>;
    if constexpr (!detail::takesValue<CbFn, T>) {
      static_assert(detail::alwaysFalse<CbFn>,
                    "Deferred<T>::addCallbacks: the callback cannot be called with the chain's value. A Deferred<T> "
                    "passes a T (take T, const T&, T&& or auto); a Deferred<void> passes nothing");
      return *this;
    } else if constexpr (!detail::takesFailure<EbFn>) {
      static_assert(detail::alwaysFalse<EbFn>,
                    "Deferred<T>::addCallbacks: the errback must take the failure: const torsion::Failure&, "
                    "torsion::Failure or torsion::Failure&&");
      return *this;
    } else {
      using R = detail::ValueCallResult<CbFn, T>;
      static_assert(!std::is_same_v<std::remove_cvref_t<R>, Failure>,
                    "Deferred<T>::addCallbacks: a callback cannot return a Failure, because the type of the value "
                    "after it would be unknown; throw instead, or return torsion::Result<U>");
      using U = detail::Unwrapped<R>;
      checkErrbackResult<detail::FailureCallResult<EbFn>, U>();
      return attach<U>(detail::PairStep<T, U, CbFn, EbFn>(std::forward<Cb>(callback), std::forward<Eb>(errback)),
                       "addCallbacks");
    }
  }

  /// Adds one function as both callback and errback: it receives a Result<T> (by value,
  /// const& or &&) holding the value or the Failure. Whatever it returns is treated as a
  /// callback's return: returning nothing ends the error path, returning the Result it
  /// got passes the outcome through.
  /// @return the same Deferred, typed by what `f` returns.
  template <class F>
  auto addBoth(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (!detail::takesResult<Fn, T>) {
      static_assert(detail::alwaysFalse<Fn>,
                    "Deferred<T>::addBoth: the function must take a torsion::Result<T> (by value, const& or &&), "
                    "T being the chain's value type");
      return *this;
    } else {
      using R = detail::ResultCallResult<Fn, T>;
      static_assert(!std::is_same_v<std::remove_cvref_t<R>, Failure>,
                    "Deferred<T>::addBoth: the function cannot return a Failure, because the type of the value "
                    "after it would be unknown; throw instead, or return torsion::Result<U>");
      using U = detail::Unwrapped<R>;
      return attach<U>(detail::BothStep<T, U, Fn>(std::forward<F>(f)), "addBoth");
    }
  }

  /// Makes `other` fire with this chain's result: adds other.callback and other.errback
  /// as a pair. This chain goes on with void (Twisted's None), also after a failure,
  /// which `other` now carries.
  /// @return the same Deferred, now a Deferred<void>.
  /// If `other` has already fired, this chain goes on with AlreadyCalledError instead.
  /// Long runs of chained Deferreds fire in constant stack.
  /// @throws std::logic_error if `other` is a handle from addCallback whose chain began
  /// as another type (fire the Deferred the chain began as).
  Deferred<void> chainDeferred(Deferred<T> other) {
    std::shared_ptr<detail::Chain> chain = requireTail("chainDeferred");
    std::shared_ptr<detail::Chain> target = other.requireInput();
    chain->setTailType(detail::typeTag<void>);
    chain->addChained(std::move(target));
    return Deferred<void>(std::move(chain));
  }

  /// Cancels the Deferred if it has not fired within `seconds` on `clock`: on expiry
  /// calls cancel(), and turns the resulting CancelledError into TimeoutError (or hands
  /// the outcome to `onTimeoutCancel`). Firing in time cancels the timer.
  /// @param seconds how long to wait.
  /// @param clock the Reactor, or a testing::Clock in tests.
  /// @param onTimeoutCancel optional: what to make of the outcome after a timeout.
  /// @return the same Deferred.
  /// @code
  /// fetch(reactor, url).addTimeout(5.0, reactor).addErrback([](const torsion::Failure& f) {
  ///   f.trap<torsion::TimeoutError>();
  ///   return Page::empty();
  /// });
  /// @endcode
  Deferred<T> addTimeout(double seconds, IReactorTime& clock, TimeoutHandler onTimeoutCancel = nullptr) {
    std::shared_ptr<detail::Chain> chain = requireTail("addTimeout");
    auto timedOut = std::make_shared<bool>(false);
    DelayedCall call = clock.callLater(seconds, [chain, timedOut] {
      *timedOut = true;
      chain->cancel();
    });
    return addBoth([call, timedOut, seconds, onTimeout = std::move(onTimeoutCancel)](Result<T>&& outcome) mutable {
      cancelIfActive(call);
      if (!*timedOut) return std::move(outcome);
      if (onTimeout) return onTimeout(std::move(outcome), seconds);
      if (outcome.failed() && outcome.failure().template check<CancelledError>()) {
        return Result<T>(Failure(TimeoutError(detail::timeoutMessage(seconds))));
      }
      return std::move(outcome);
    });
  }

  /// Cancels the operation: if the Deferred has not fired, calls the canceller (if any)
  /// and, unless that fired it, errbacks with CancelledError. A Deferred without a
  /// canceller then ignores the one result its operation may still deliver. If it has
  /// fired and waits on a Deferred a callback returned, cancels that one instead (a
  /// waiting Deferred holds the one it waits on, so this works even when nothing else
  /// refers to it; runs of nested Deferreds are walked in constant stack). Does nothing
  /// otherwise.
  void cancel() { requireChain("cancel")->cancel(); }

  /// Stops running callbacks until a matching unpause(). Counted: n pauses need n
  /// unpauses.
  void pause() { requireChain("pause")->pause(); }

  /// Undoes one pause(); when none remain, runs the callbacks that are due.
  /// @throws std::logic_error without a matching pause().
  void unpause() { requireChain("unpause")->unpause(); }

  /// True once callback() or errback() has been called (Twisted's `called`).
  bool called() const { return requireChain("called")->called(); }

  /// How many reasons hold the chain back: pause() calls not yet unpaused, plus one
  /// while it waits on a Deferred a callback returned (Twisted's `paused`).
  int paused() const { return requireChain("paused")->paused(); }

  /// True if `other` is a handle to the same chain (Twisted's `d2 is d`).
  template <class U>
  bool sameAs(const Deferred<U>& other) const noexcept {
    return chain_ == detail::DeferredAccess::chain(other);
  }

 private:
  template <class>
  friend class Deferred;
  friend struct detail::DeferredAccess;

  explicit Deferred(std::shared_ptr<detail::Chain> chain) noexcept : chain_(std::move(chain)) {}

  void release() noexcept {
    // Only a chain that something waits on needs the check (detail::ChainHold).
    if (chain_ && chain_->holds() != 0) {
      detail::releaseChain(chain_);
    } else {
      chain_.reset();
    }
  }

  const std::shared_ptr<detail::Chain>& requireChain(const char* operation) const {
    if (!chain_) detail::throwEmptyDeferred(operation);
    return chain_;
  }

  // A copy, so the chain outlives a callback that drops the handle we were called on.
  std::shared_ptr<detail::Chain> requireTail(const char* operation) const {
    const std::shared_ptr<detail::Chain>& chain = requireChain(operation);
    if (&chain->tailType() != &detail::typeTag<T>) {
      detail::throwStaleHandle(operation, detail::typeTag<T>, chain->tailType());
    }
    return chain;
  }

  std::shared_ptr<detail::Chain> requireInput() const {
    const std::shared_ptr<detail::Chain>& chain = requireChain("callback");
    if (&chain->inputType() != &detail::typeTag<T>) detail::throwWrongInput(detail::typeTag<T>, chain->inputType());
    return chain;
  }

  template <class R, class U>
  static constexpr void checkErrbackResult() {
    if constexpr (std::is_void_v<std::remove_cvref_t<R>> && !std::is_void_v<U>) {
      static_assert(detail::alwaysFalse<R>,
                    "Deferred<T>::addErrback: an errback that returns nothing can only end the error path of a "
                    "Deferred<void>. Return a T to recover, return the Failure (or rethrow) to stay failed, or use "
                    "addBoth with a function that returns nothing to end the chain");
    } else {
      static_assert(detail::errbackFits<R, U>,
                    "Deferred<T>::addErrback: the errback must return what the chain carries: a T (recover), a "
                    "torsion::Failure (stay failed), a torsion::Result<T> or a torsion::Deferred<T>");
    }
  }

  template <class U, class S>
  Deferred<U> attach(S&& step, const char* operation) {
    std::shared_ptr<detail::Chain> chain = requireTail(operation);
    if (chain->readyNow()) {
      // The common case of a fired chain: run the step where it is, without storing it.
      // The tail type changes first, so a callback adding to a stale handle is caught.
      chain->setTailType(detail::typeTag<U>);
      chain->runNow(step);
    } else {
      auto stored = std::make_unique<std::decay_t<S>>(std::move(step));
      chain->setTailType(detail::typeTag<U>);
      chain->addStep(std::move(stored));
    }
    return Deferred<U>(std::move(chain));
  }

  void fire(Result<T>&& result) {
    if (result.failed()) {
      errback(std::move(result).failure());
    } else if constexpr (std::is_void_v<T>) {
      callback();
    } else {
      callback(std::move(result).value());
    }
  }

  std::shared_ptr<detail::Chain> chain_;
};

}  // namespace torsion

#include <torsion/deferred_coroutine.hpp>
#include <torsion/deferred_functions.hpp>
