// Public. DeferredLock and DeferredSemaphore: mutual exclusion for asynchronous code.
#pragma once

#include <torsion/deferred.hpp>

#include <concepts>
#include <cstddef>
#include <deque>
#include <limits>
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

/// What DeferredLock and DeferredSemaphore share (Twisted's _ConcurrencyPrimitive): the
/// tokens, the line of waiters and the operations on them, written once — a lock is a
/// semaphore of one token. Not used on its own.
///
/// Thread safety: use from one thread at a time (the one that owns its chain); see docs/deferred.md.
class ConcurrencyPrimitive {
 public:
  ConcurrencyPrimitive(const ConcurrencyPrimitive&) = delete;             ///< Not copyable.
  ConcurrencyPrimitive& operator=(const ConcurrencyPrimitive&) = delete;  ///< Not copyable.

  /// How many acquire() calls wait.
  std::size_t waitingCount() const noexcept { return state_->waiting.size(); }

  /// Asks for a token (the lock).
  /// @return a Deferred that fires (at once if one is free) when you hold it.
  Deferred<void> acquire() { return state_->acquire(state_); }

  /// Gives the token back, handing it to the first waiter if there is one.
  /// @throws std::logic_error if nothing is held.
  void release() { state_->release(); }

  /// Acquires, calls `f()`, and releases when `f`'s outcome is known: if it returns a
  /// Deferred (or a DeferredList, a gatherResults or race result), once that fires.
  /// @return a Deferred of f's outcome (a `Deferred<V>` result means V).
  template <class F>
  auto run(F&& f) {
    return detail::TokenState::run(state_, std::forward<F>(f));
  }

 protected:
  /// A primitive with `tokens` free tokens; `overReleaseMessage` is release()'s error.
  ConcurrencyPrimitive(std::size_t tokens, const char* overReleaseMessage)
      : state_(std::make_shared<detail::TokenState>(detail::TokenState{tokens, tokens, {}, overReleaseMessage})) {}
  ~ConcurrencyPrimitive() = default;  ///< Destroyed only as a DeferredLock or DeferredSemaphore.

  /// The state, shared with the Deferreds handed out.
  std::shared_ptr<detail::TokenState> state_;
};

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
///
/// Thread safety: use from one thread at a time (the one that owns its chain); see docs/deferred.md.
class DeferredLock : public ConcurrencyPrimitive {
 public:
  /// An unlocked lock.
  DeferredLock() : ConcurrencyPrimitive(1, "DeferredLock::release: tried to release an unlocked lock") {}

  /// True while someone holds the lock.
  bool locked() const noexcept { return state_->tokens == 0; }
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
///
/// Thread safety: use from one thread at a time (the one that owns its chain); see docs/deferred.md.
class DeferredSemaphore : public ConcurrencyPrimitive {
 public:
  /// A semaphore with `tokens` free tokens. Any integer type is taken as it is, so a
  /// negative count is an error rather than a huge unsigned one.
  /// @throws std::invalid_argument if tokens is less than 1.
  template <std::integral I>
  explicit DeferredSemaphore(I tokens)
      : ConcurrencyPrimitive(checked(tokens), "DeferredSemaphore::release: released more times than acquired") {}

  /// Tokens free now.
  std::size_t tokens() const noexcept { return state_->tokens; }

  /// The number of tokens the semaphore was made with.
  std::size_t limit() const noexcept { return state_->limit; }

 private:
  template <std::integral I>
  static std::size_t checked(I tokens) {
    if (std::cmp_less(tokens, 1)) throw std::invalid_argument("DeferredSemaphore requires at least one token");
    if (std::cmp_greater(tokens, std::numeric_limits<std::size_t>::max())) {
      throw std::invalid_argument("DeferredSemaphore: too many tokens");
    }
    return static_cast<std::size_t>(tokens);
  }
};

}  // namespace torsion
