#include <torsion/task.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>

namespace torsion {

// Shared with the scheduled call and the callbacks on the function's Deferred, which
// hold it weakly: a destroyed LoopingCall leaves nothing behind that could call it.
struct LoopingCall::State : std::enable_shared_from_this<State> {
  IReactorTime* clock = nullptr;
  std::function<Deferred<void>()> f;
  DelayedCall call;
  std::optional<Deferred<void>> deferred;
  double interval = 0;
  double startTime = 0;
  std::optional<double> realLastTime;  // withCount: when the count was last taken
  bool running = false;
  bool runAtStart = false;

  void run() {
    call = DelayedCall();
    std::weak_ptr<State> weak = weak_from_this();
    f().addCallbacks(
        [weak] {
          if (auto self = weak.lock()) self->iterationDone();
        },
        [weak](const Failure& failure) {
          if (auto self = weak.lock()) self->iterationFailed(failure);
        });
  }

  void iterationDone() {
    if (running) {
      scheduleFrom(clock->seconds());
    } else {
      fireStopped();
    }
  }

  void iterationFailed(const Failure& failure) {
    running = false;
    if (auto d = std::exchange(deferred, std::nullopt)) d->errback(failure);
  }

  void fireStopped() {
    if (auto d = std::exchange(deferred, std::nullopt)) d->callback();
  }

  // Schedules the next call at the next point of the grid startTime + n * interval.
  void scheduleFrom(double when) {
    double delay = 0;
    if (interval > 0) {
      const double untilNext = interval - std::fmod(when - startTime, interval);
      // So close to the grid point that adding it leaves `when` unchanged: that point is
      // now, and the next one is a whole interval away.
      delay = (when == when + untilNext) ? interval : untilNext;
    }
    std::weak_ptr<State> weak = weak_from_this();
    call = clock->callLater(delay, [weak] {
      if (auto self = weak.lock()) self->run();
    });
  }

  std::int64_t intervalOf(double time) const {
    return static_cast<std::int64_t>(std::trunc((time - startTime) / interval));
  }
};

LoopingCall::LoopingCall(IReactorTime& clock, std::function<Deferred<void>()> f, int)
    : state_(std::make_shared<State>()) {
  state_->clock = &clock;
  state_->f = std::move(f);
}

LoopingCall LoopingCall::withCount(IReactorTime& clock, std::function<void(std::int64_t)> countCallable) {
  LoopingCall loop(clock, std::function<Deferred<void>()>(), 0);
  std::weak_ptr<State> weak = loop.state_;
  loop.state_->f = wrap([weak, countCallable = std::move(countCallable)] {
    auto self = weak.lock();
    if (!self) return;
    const double now = self->clock->seconds();
    if (self->interval == 0) {
      self->realLastTime = now;
      countCallable(1);
      return;
    }
    // Before the first call, count from the start (or from one interval earlier when
    // the first call is made at the start, so that it counts 1).
    const double lastTime =
        self->realLastTime ? *self->realLastTime : self->startTime - (self->runAtStart ? self->interval : 0);
    const std::int64_t count = self->intervalOf(now) - self->intervalOf(lastTime);
    if (count > 0) {
      self->realLastTime = now;
      countCallable(count);
    }
  });
  return loop;
}

LoopingCall::~LoopingCall() {
  if (state_) cancelIfActive(state_->call);
}

LoopingCall::LoopingCall(LoopingCall&&) noexcept = default;

LoopingCall& LoopingCall::operator=(LoopingCall&& other) noexcept {
  if (this != &other) {
    if (state_) cancelIfActive(state_->call);
    state_ = std::move(other.state_);
  }
  return *this;
}

Deferred<void> LoopingCall::start(double interval, bool now) {
  if (!state_) throw std::logic_error("LoopingCall::start on a moved-from LoopingCall");
  State& s = *state_;
  if (s.running) throw std::logic_error("LoopingCall::start: already running");
  if (!(interval >= 0)) throw std::invalid_argument("LoopingCall::start: interval must be >= 0");
  s.running = true;
  Deferred<void> deferred;
  s.deferred = deferred;  // the local copy survives a first call that fails at once
  s.startTime = s.clock->seconds();
  s.interval = interval;
  s.runAtStart = now;
  s.realLastTime.reset();
  if (now) {
    s.run();
  } else {
    s.scheduleFrom(s.startTime);
  }
  return deferred;
}

void LoopingCall::stop() {
  if (!state_ || !state_->running) throw std::logic_error("LoopingCall::stop: not running");
  State& s = *state_;
  s.running = false;
  if (s.call.active()) {
    s.call.cancel();
    s.call = DelayedCall();
    s.fireStopped();
  }
  // Otherwise the function's Deferred is pending: start()'s Deferred fires after it.
}

void LoopingCall::reset() {
  if (!state_ || !state_->running) throw std::logic_error("LoopingCall::reset: not running");
  State& s = *state_;
  if (s.call.active()) {
    s.call.cancel();
    s.startTime = s.clock->seconds();
    s.scheduleFrom(s.startTime);
  }
}

bool LoopingCall::running() const noexcept { return state_ && state_->running; }

double LoopingCall::interval() const noexcept { return state_ ? state_->interval : 0; }

DelayedCall LoopingCall::call() const { return state_ ? state_->call : DelayedCall(); }

}  // namespace torsion
