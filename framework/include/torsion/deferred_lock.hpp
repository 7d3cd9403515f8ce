// Public. DeferredLock and DeferredSemaphore: mutual exclusion for asynchronous code.
#pragma once

#include <torsion/deferred.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace torsion {

namespace detail {

/// Tokens and waiters shared by a DeferredLock or DeferredSemaphore and the Deferreds it
/// hands out, so a pending acquire outlives neither.
struct TokenState {
  std::size_t tokens;
  std::size_t limit;
  std::deque<Deferred<void>> waiting;
  const char* overReleaseMessage;

  Deferred<void> acquire(const std::shared_ptr<TokenState>& self) {
    Deferred<void> deferred([weak = std::weak_ptr<TokenState>(self)](Deferred<void>& cancelled) {
      if (std::shared_ptr<TokenState> state = weak.lock()) {
        std::erase_if(state->waiting, [&](const Deferred<void>& d) { return d.sameAs(cancelled); });
      }
    });
    if (tokens == 0) {
      waiting.push_back(deferred);
    } else {
      --tokens;
      deferred.callback();
    }
    return deferred;
  }

  void release() {
    if (tokens >= limit) throw std::logic_error(overReleaseMessage);
    ++tokens;
    if (!waiting.empty()) {
      --tokens;
      Deferred<void> next = std::move(waiting.front());
      waiting.pop_front();
      next.callback();
    }
  }

  // Acquire, run `f` once acquired, release when its outcome is known (Twisted's run).
  template <class F>
  static auto run(const std::shared_ptr<TokenState>& self, F&& f) {
    using U = Unwrapped<std::invoke_result_t<std::decay_t<F>&>>;
    return self->acquire(self).addCallback([self, f = std::forward<F>(f)]() mutable {
      return maybeDeferred(f).addBoth([self](Result<U>&& outcome) {
        self->release();
        return std::move(outcome);
      });
    });
  }
};

}  // namespace detail

/// A lock for asynchronous code (Twisted's DeferredLock): acquire() gives a Deferred
/// that fires once the lock is yours; release() hands it to the next waiter, in the
/// order they asked. Cancelling a pending acquire() takes it out of the queue.
///
/// The lock's state is shared with the Deferreds it hands out, so they stay valid if
/// the lock object goes first. Not thread-safe: use it on the reactor's thread.
///
/// @code
/// torsion::DeferredLock lock;
/// lock.run([&] { return writeRecord(r, record); });   // at most one write at a time
/// @endcode
class DeferredLock {
 public:
  /// An unlocked lock.
  DeferredLock()
      : state_(std::make_shared<detail::TokenState>(
            detail::TokenState{1, 1, {}, "DeferredLock::release: tried to release an unlocked lock"})) {}
  DeferredLock(const DeferredLock&) = delete;             ///< Not copyable.
  DeferredLock& operator=(const DeferredLock&) = delete;  ///< Not copyable.

  /// True while someone holds the lock.
  bool locked() const noexcept { return state_->tokens == 0; }

  /// How many acquire() calls wait for the lock.
  std::size_t waitingCount() const noexcept { return state_->waiting.size(); }

  /// Asks for the lock.
  /// @return a Deferred that fires (at once if the lock is free) when the lock is yours.
  Deferred<void> acquire() { return state_->acquire(state_); }

  /// Releases the lock, handing it to the first waiter if there is one.
  /// @throws std::logic_error if the lock is not held.
  void release() { state_->release(); }

  /// Acquires the lock, calls `f()`, and releases the lock when `f`'s outcome is known
  /// (if it returns a Deferred, once that fires).
  /// @return a Deferred of f's outcome (a `Deferred<V>` result means V).
  template <class F>
  auto run(F&& f) {
    return detail::TokenState::run(state_, std::forward<F>(f));
  }

 private:
  std::shared_ptr<detail::TokenState> state_;
};

/// A semaphore for asynchronous code (Twisted's DeferredSemaphore): at most `tokens`
/// holders at once; the others wait, in the order they asked. Typically used through
/// run() to bound how many operations run in parallel.
///
/// Not thread-safe: use it on the reactor's thread.
///
/// @code
/// torsion::DeferredSemaphore slots(4);   // four downloads at a time
/// std::vector<torsion::Deferred<Page>> pages;
/// for (auto& url : urls) pages.push_back(slots.run([&, url] { return fetch(r, url); }));
/// @endcode
class DeferredSemaphore {
 public:
  /// A semaphore with `tokens` free tokens.
  /// @throws std::invalid_argument if tokens is 0.
  explicit DeferredSemaphore(std::size_t tokens)
      : state_(std::make_shared<detail::TokenState>(detail::TokenState{
            checked(tokens), tokens, {}, "DeferredSemaphore::release: released more times than acquired"})) {}
  DeferredSemaphore(const DeferredSemaphore&) = delete;             ///< Not copyable.
  DeferredSemaphore& operator=(const DeferredSemaphore&) = delete;  ///< Not copyable.

  /// Tokens free now.
  std::size_t tokens() const noexcept { return state_->tokens; }

  /// The number of tokens the semaphore was made with.
  std::size_t limit() const noexcept { return state_->limit; }

  /// How many acquire() calls wait for a token.
  std::size_t waitingCount() const noexcept { return state_->waiting.size(); }

  /// Asks for a token.
  /// @return a Deferred that fires (at once if a token is free) when you hold one.
  Deferred<void> acquire() { return state_->acquire(state_); }

  /// Gives a token back, handing it to the first waiter if there is one.
  /// @throws std::logic_error if every token is already free.
  void release() { state_->release(); }

  /// Acquires a token, calls `f()`, and releases the token when `f`'s outcome is known.
  /// @return a Deferred of f's outcome (a `Deferred<V>` result means V).
  template <class F>
  auto run(F&& f) {
    return detail::TokenState::run(state_, std::forward<F>(f));
  }

 private:
  static std::size_t checked(std::size_t tokens) {
    if (tokens == 0) throw std::invalid_argument("DeferredSemaphore requires at least one token");
    return tokens;
  }
  std::shared_ptr<detail::TokenState> state_;
};

}  // namespace torsion
