#include <torsion/lifetime.hpp>

namespace torsion {

struct Lifetime::State {
  std::shared_ptr<detail::LifetimeToken> token = std::make_shared<detail::LifetimeToken>();
  std::vector<DelayedCall> timers;
};

// Stands for "ended" without an allocation per lifetime, so that ending one that never
// bound anything (most connections) costs nothing. Only its address is used.
Lifetime::State* Lifetime::endedMarker() noexcept {
  static State marker;
  return &marker;
}

std::shared_ptr<detail::LifetimeToken> Lifetime::token() {
  if (state_ == endedMarker()) {
    auto dead = std::make_shared<detail::LifetimeToken>();
    dead->state = detail::LifetimeToken::State::ended;
    return dead;
  }
  if (state_ == nullptr) state_ = new State();
  return state_->token;
}

DelayedCall Lifetime::callLater(IReactorTime& clock, double delaySeconds, std::function<void()> fn) {
  if (ended()) return DelayedCall();
  DelayedCall call = clock.callLater(delaySeconds, bind(std::move(fn)));
  std::vector<DelayedCall>& timers = state_->timers;
  // A connection that keeps rescheduling (an idle timeout renewed per message) must not
  // grow this list: drop the handles of calls that ran or were cancelled before it grows.
  if (timers.size() == timers.capacity()) std::erase_if(timers, [](const DelayedCall& c) { return !c.active(); });
  timers.push_back(std::move(call));
  return timers.back();
}

void Lifetime::end() noexcept {
  State* const ended = endedMarker();  // one look at the marker: this runs for every connection
  State* state = state_;
  if (state == ended) return;
  state_ = ended;
  if (state == nullptr) return;
  state->token->state = detail::LifetimeToken::State::ended;
  for (DelayedCall& call : state->timers) {
    if (call.active()) {
      try {
        call.cancel();
      } catch (...) {  // active() said it can be cancelled; nothing to report if not
      }
    }
  }
  delete state;
}

bool Lifetime::ended() const noexcept { return state_ == endedMarker(); }

}  // namespace torsion
