// Public. DeferredQueue<T>: a queue whose get() returns a Deferred.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/errors.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

namespace torsion {

/// A queue for producers and consumers on one thread (Twisted's DeferredQueue): get()
/// returns a Deferred that fires with the next item, at once if one is pending; put()
/// hands an item to the oldest waiting get(), or stores it.
///
/// Either side may be bounded: at most `size` stored items (put() beyond throws
/// QueueOverflow) and at most `backlog` waiting getters (get() beyond throws
/// QueueUnderflow). Cancelling a waiting get() takes it out of the queue.
///
/// Not thread-safe: use it on the reactor's thread.
///
/// @code
/// torsion::DeferredQueue<std::string> lines;
/// lines.get().addCallback([](std::string line) { handle(line); });
/// lines.put("hello");  // the callback runs now
/// @endcode
///
/// @tparam T the item type (movable).
///
/// Thread safety: use from one thread at a time (the one that owns its chain); see docs/deferred.md.
template <class T>
class DeferredQueue {
 public:
  /// @param size the most items stored at once; none means unbounded.
  /// @param backlog the most get() calls waiting at once; none means unbounded.
  explicit DeferredQueue(std::optional<std::size_t> size = std::nullopt,
                         std::optional<std::size_t> backlog = std::nullopt)
      : state_(std::make_shared<State>()) {
    state_->size = size;
    state_->backlog = backlog;
  }
  DeferredQueue(const DeferredQueue&) = delete;             ///< Not copyable.
  DeferredQueue& operator=(const DeferredQueue&) = delete;  ///< Not copyable.

  /// Gives `item` to the oldest waiting get(), or stores it.
  /// @throws QueueOverflow if nobody waits and `size` items are already stored.
  void put(T item) {
    if (!state_->waiting.empty()) {
      Deferred<T> next = std::move(state_->waiting.front());
      state_->waiting.pop_front();
      next.callback(std::move(item));
    } else if (!state_->size || state_->pending.size() < *state_->size) {
      state_->pending.push_back(std::move(item));
    } else {
      throw QueueOverflow();
    }
  }

  /// Asks for the next item.
  /// @return a Deferred that fires with it: at once if one is stored.
  /// @throws QueueUnderflow if nothing is stored and `backlog` getters already wait.
  Deferred<T> get() {
    if (!state_->pending.empty()) {
      Deferred<T> ready = succeed(std::move(state_->pending.front()));
      state_->pending.pop_front();
      return ready;
    }
    if (state_->backlog && state_->waiting.size() >= *state_->backlog) throw QueueUnderflow();
    Deferred<T> deferred([weak = std::weak_ptr<State>(state_)](Deferred<T>& cancelled) {
      if (std::shared_ptr<State> state = weak.lock()) {
        std::erase_if(state->waiting, [&](const Deferred<T>& d) { return d.sameAs(cancelled); });
      }
    });
    state_->waiting.push_back(deferred);
    return deferred;
  }

  /// The items stored and not yet taken, oldest first (Twisted's `pending`).
  const std::deque<T>& pending() const noexcept { return state_->pending; }

  /// How many get() calls wait for an item.
  std::size_t waitingCount() const noexcept { return state_->waiting.size(); }

  /// The most items stored at once, if bounded (Twisted's `size`).
  std::optional<std::size_t> sizeLimit() const noexcept { return state_->size; }

  /// The most get() calls waiting at once, if bounded (Twisted's `backlog`).
  std::optional<std::size_t> backlogLimit() const noexcept { return state_->backlog; }

 private:
  // Shared with the cancellers of waiting gets, which may outlive the queue.
  struct State {
    std::deque<T> pending;
    std::deque<Deferred<T>> waiting;
    std::optional<std::size_t> size;
    std::optional<std::size_t> backlog;
  };
  std::shared_ptr<State> state_;
};

}  // namespace torsion
