// Public. Lifetime: timers and callbacks bound to an object's life, so that none of them
// runs once the object is gone.
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/errors.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace torsion {

namespace detail {

/// Shared by a Lifetime and every callback bound to it: the callbacks look here before
/// they run, so they never need the object itself to find out that it is gone.
struct LifetimeToken {
  /// Whether bound callbacks may still run.
  enum class State : std::uint8_t { live, ended };
  State state = State::live;  ///< ended once Lifetime::end() ran (or the Lifetime died)
};

}  // namespace detail

/// A callable that calls `F` only while the Lifetime it was bound to has not ended; made
/// by Lifetime::bind and Protocol::whileConnected.
///
/// Once the lifetime has ended a call does nothing: a callback returning void simply
/// returns; one returning a value (it cannot make one up) throws CancelledError, which a
/// Deferred chain carries on its error path. The callable holds a small shared token,
/// never the object, so it may be kept, copied and called after the object is destroyed.
///
/// Thread safety: call it only on the thread of the Lifetime it was bound to (the reactor's).
template <class F>
class BoundCallback {
 public:
  /// Binds `fn` to `token`; use Lifetime::bind rather than this.
  BoundCallback(std::shared_ptr<detail::LifetimeToken> token, F fn) : token_(std::move(token)), fn_(std::move(fn)) {}

  /// Calls the function with `args` if the lifetime has not ended.
  /// @throws CancelledError if it has ended and the function returns a value; whatever
  /// the function throws otherwise.
  template <class... Args>
  requires std::invocable<F&, Args&&...> std::invoke_result_t<F&, Args&&...>
  operator()(Args&&... args) {
    if (!live()) {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Args&&...>>) {
        return;
      } else {
        throw CancelledError("The object this callback was bound to is gone (its Lifetime ended).");
      }
    }
    return std::invoke(fn_, std::forward<Args>(args)...);
  }

  /// True while a call would reach the function.
  bool live() const noexcept { return token_ && token_->state == detail::LifetimeToken::State::live; }

 private:
  std::shared_ptr<detail::LifetimeToken> token_;
  F fn_;
};

/// The life of an object, as seen by the timers and callbacks it hands out: keep one as
/// a member, bind every callback that captures `this` to it, and none of them can run
/// after the object is gone. Ending it (end(), or destroying it) cancels its timers and
/// disarms its bound callbacks. A Protocol has one already, ended when its connection is
/// lost: use Protocol::callLater and Protocol::whileConnected there. This class is for
/// other objects, such as a DatagramProtocol or a factory.
///
/// It costs one pointer until first used; the first bind or callLater allocates a small
/// block, which end() frees.
///
/// Thread safety: use it, and call what it binds, on one thread (the reactor's).
///
/// @code
/// class Pinger : public torsion::DatagramProtocol {
///   void startProtocol() override {
///     life_.callLater(reactor_, 1.0, [this] { transport().write("ping", server_); });
///   }
///   torsion::Lifetime life_;   // declared last: ends first, before the members it guards
///   ...
/// };
/// @endcode
class Lifetime {
 public:
  /// A live lifetime with nothing bound yet.
  Lifetime() noexcept = default;

  /// Ends the lifetime (see end()).
  ~Lifetime() { end(); }

  Lifetime(const Lifetime&) = delete;             ///< Not copyable: callbacks are bound to this one.
  Lifetime& operator=(const Lifetime&) = delete;  ///< Not copyable.

  /// Wraps `fn` so that it runs only while this lifetime has not ended (see
  /// BoundCallback). Binding after the end gives a callable that never calls `fn`.
  template <class F>
  BoundCallback<std::decay_t<F>> bind(F&& fn) {
    return BoundCallback<std::decay_t<F>>(token(), std::forward<F>(fn));
  }

  /// Schedules `fn` on `clock` like IReactorTime::callLater, bound to this lifetime:
  /// end() cancels it if it is still pending.
  /// @return the call's handle; an inactive one if the lifetime has already ended.
  /// @throws std::invalid_argument as IReactorTime::callLater.
  DelayedCall callLater(IReactorTime& clock, double delaySeconds, std::function<void()> fn);

  /// Ends the lifetime: cancels its pending timers and disarms every callback bound to
  /// it. Calling it again does nothing.
  void end() noexcept;

  /// True once end() ran.
  bool ended() const noexcept;

 private:
  struct State;
  static State* endedMarker() noexcept;

  /// The token callbacks share, allocating the state on first use.
  std::shared_ptr<detail::LifetimeToken> token();

  // nullptr: live, nothing bound yet. endedMarker(): ended, nothing to free. Otherwise the
  // state of a lifetime that bound something (live, since end() frees it).
  State* state_ = nullptr;
};

}  // namespace torsion
