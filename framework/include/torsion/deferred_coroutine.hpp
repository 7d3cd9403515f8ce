// Public. Coroutines and Deferred<T>: a coroutine may return a Deferred<T> (Twisted's
// inlineCallbacks / ensureDeferred) and co_await one. Included by deferred.hpp.
#pragma once

#include <torsion/deferred.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace torsion::detail {

/// Shared by a coroutine's frame and its Deferred's canceller: what the body awaits now.
struct CoroutineControl {
  std::weak_ptr<Chain> awaiting;  ///< weak: the frame already holds it while awaiting
};

template <class T>
class ResumeStep;

/// What `co_await deferred` turns into. Awaiting takes the Deferred's result: the chain
/// holds none afterwards (as in Twisted, where the awaited Deferred is left with None).
template <class T>
class DeferredAwaiter {
 public:
  DeferredAwaiter(std::shared_ptr<Chain> chain, CoroutineControl* control) noexcept
      : chain_(std::move(chain)), control_(control) {}
  DeferredAwaiter(DeferredAwaiter&& other) noexcept
      : chain_(std::move(other.chain_)), control_(other.control_), step_(std::exchange(other.step_, nullptr)) {}
  DeferredAwaiter(const DeferredAwaiter&) = delete;
  DeferredAwaiter& operator=(const DeferredAwaiter&) = delete;
  DeferredAwaiter& operator=(DeferredAwaiter&&) = delete;
  ~DeferredAwaiter();

  /// True when the Deferred already has a result: then the coroutine does not suspend.
  bool await_ready() {
    if (!chain_) throwEmptyDeferred("co_await");
    if (&chain_->tailType() != &typeTag<T>) throwStaleHandle("co_await", typeTag<T>, chain_->tailType());
    return chain_->readyNow();
  }

  /// Adds the step that will resume the coroutine when the Deferred fires.
  bool await_suspend(std::coroutine_handle<> handle) {
    if (control_) control_->awaiting = chain_;
    auto step = std::make_unique<ResumeStep<T>>(this, handle);
    step_ = step.get();
    suspending_ = true;
    chain_->addStep(std::move(step));
    suspending_ = false;
    return !result_.has_value();  // fired during addStep after all: go on without suspending
  }

  /// The value, or the failure rethrown as its exception.
  T await_resume() {
    if (control_) control_->awaiting.reset();
    if (!result_) result_.emplace(takeResult<T>(*chain_));
    chain_.reset();
    if constexpr (std::is_void_v<T>) {
      result_->value();
    } else {
      return std::move(*result_).value();
    }
  }

 private:
  friend class ResumeStep<T>;

  // The frame holds the awaited chain until the coroutine resumes, so a Deferred that
  // only the coroutine references still fires into it (through cancel(), for one).
  std::shared_ptr<Chain> chain_;
  CoroutineControl* control_;
  ResumeStep<T>* step_ = nullptr;
  std::optional<Result<T>> result_;
  bool suspending_ = false;
};

/// The step a suspended co_await adds to the awaited chain.
template <class T>
class ResumeStep final : public Step {
 public:
  ResumeStep(DeferredAwaiter<T>* awaiter, std::coroutine_handle<> handle) noexcept
      : awaiter_(awaiter), handle_(handle) {}

  // The chain went away without firing while the coroutine waited on it, so nothing can
  // ever resume it: destroy it, running the destructors of its locals.
  ~ResumeStep() override {
    std::coroutine_handle<> handle = std::exchange(handle_, nullptr);
    awaiter_ = nullptr;
    if (handle) handle.destroy();
  }

  std::shared_ptr<Chain> run(Chain& chain) noexcept override {
    if (awaiter_ == nullptr) return nullptr;  // the coroutine is gone; leave the result be
    DeferredAwaiter<T>* awaiter = std::exchange(awaiter_, nullptr);
    awaiter->step_ = nullptr;
    try {
      awaiter->result_.emplace(takeResult<T>(chain));
    } catch (...) {
      awaiter->result_.emplace(Failure::current());
    }
    std::coroutine_handle<> handle = std::exchange(handle_, nullptr);
    if (!awaiter->suspending_) handle.resume();
    return nullptr;
  }

 private:
  friend class DeferredAwaiter<T>;
  DeferredAwaiter<T>* awaiter_;
  std::coroutine_handle<> handle_;
};

template <class T>
DeferredAwaiter<T>::~DeferredAwaiter() {
  // The frame is being destroyed while suspended (by its owner): the step must not
  // resume it, nor destroy it a second time.
  if (step_ != nullptr) {
    step_->awaiter_ = nullptr;
    step_->handle_ = nullptr;
  }
}

/// Anything whose type is a `Deferred<V>` or derives from one (DeferredList).
template <class A>
concept DeferredLike = std::derived_from<std::remove_cvref_t<A>, DeferredTag>;

/// Runs the end of a coroutine: frees the frame first, so its locals are gone before
/// the callbacks of its Deferred run, then fires the Deferred.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> handle) noexcept {
    Promise& promise = handle.promise();
    std::shared_ptr<Chain> chain = std::move(promise.chain_);
    auto result = std::move(*promise.result_);
    handle.destroy();
    if (chain->called()) return;  // cancelled while running, and nothing was awaited
    Promise::deliver(*chain, std::move(result));
  }
  void await_resume() const noexcept {}
};

/// The promise behaviour shared by Deferred<T> and Deferred<void> coroutines.
template <class T>
class DeferredPromiseBase {
 public:
  /// Makes the Deferred the coroutine returns; cancelling it cancels what the body awaits.
  Deferred<T> get_return_object() {
    chain_ = Chain::create(typeTag<T>);
    control_ = std::make_shared<CoroutineControl>();
    chain_->setCanceller([control = control_](Chain&) {
      if (std::shared_ptr<Chain> awaited = control->awaiting.lock()) {
        awaited->cancel();  // the body sees CancelledError at its co_await and decides
        return true;
      }
      return false;
    });
    return DeferredAccess::wrap<T>(chain_);
  }

  /// The body starts at once, as with ensureDeferred, and runs to its first suspension.
  std::suspend_never initial_suspend() const noexcept { return {}; }
  /// See FinalAwaiter.
  FinalAwaiter final_suspend() const noexcept { return {}; }
  /// An exception escaping the body fails the Deferred.
  void unhandled_exception() noexcept { result_.emplace(Failure::current()); }

  /// Awaiting a Deferred records it, so cancelling this coroutine's Deferred cancels it.
  // clang-format off
  template <class A>
    requires DeferredLike<A>
  auto await_transform(A&& deferred) {
    // clang-format on
    using V = typename std::remove_cvref_t<A>::value_type;
    return DeferredAwaiter<V>(DeferredAccess::chain(static_cast<const Deferred<V>&>(deferred)), control_.get());
  }

  /// Other awaitables are awaited as they are.
  // clang-format off
  template <class A>
    requires(!DeferredLike<A>)
  A&& await_transform(A&& awaitable) const noexcept {
    // clang-format on
    return std::forward<A>(awaitable);
  }

  /// Fires `chain` with the coroutine's outcome.
  static void deliver(Chain& chain, Result<T>&& result) {
    Deferred<T> deferred = DeferredAccess::wrap<T>(chain.shared_from_this());
    DeferredAccess::fire(deferred, std::move(result));
  }

  std::shared_ptr<Chain> chain_;               ///< the coroutine's Deferred
  std::shared_ptr<CoroutineControl> control_;  ///< shared with its canceller
  std::optional<Result<T>> result_;            ///< set by co_return or an exception
};

/// The promise of a coroutine returning Deferred<T>: `co_return value;` fires it with
/// the value; `co_return failure;` (a torsion::Failure) fails it without throwing.
template <class T>
class DeferredPromise : public DeferredPromiseBase<T> {
 public:
  /// Records the outcome; the Deferred fires once the frame is gone.
  // clang-format off
  template <class U = T>
    requires std::constructible_from<Result<T>, U&&>
  void return_value(U&& value) {
    // clang-format on
    this->result_.emplace(std::forward<U>(value));
  }
};

/// The promise of a coroutine returning Deferred<void>.
template <>
class DeferredPromise<void> : public DeferredPromiseBase<void> {
 public:
  /// Records success; the Deferred fires once the frame is gone.
  void return_void() { this->result_.emplace(); }
};

}  // namespace torsion::detail

namespace torsion {

/// Awaits a Deferred from any coroutine type: resumes with its value, or throws its
/// failure's exception at the co_await. In a coroutine returning Deferred, the promise
/// does this itself and also forwards cancellation.
/// @code
/// torsion::Deferred<Page> crawl(torsion::Reactor& r) {
///   auto a = co_await fetch(r, "a");
///   auto b = co_await fetch(r, "b");
///   co_return merge(a, b);
/// }
/// @endcode
template <class T>
detail::DeferredAwaiter<T> operator co_await(const Deferred<T>& deferred) {
  return detail::DeferredAwaiter<T>(detail::DeferredAccess::chain(deferred), nullptr);
}

}  // namespace torsion
