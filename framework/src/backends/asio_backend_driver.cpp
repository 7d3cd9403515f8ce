// asio: the attached-mode driver of the Asio backend (see asio_backend.hpp). On a user's
// io_context nothing calls Reactor::run's loop, so the backend runs the reactor's passes
// from Asio handlers: a completed wait, a steady_timer armed for the next torsion timer,
// or a posted handler when a pass is due at once. It sees the reactor only as a
// LoopDriver.
#include <asio/post.hpp>

#include <torsion/asio_reactor.hpp>

#include "../log_unhandled.hpp"
#include "../reactor_access.hpp"
#include "asio_backend.hpp"

namespace torsion::detail {

void AsioBackend::bind(LoopDriver& driver) {
  driver_ = &driver;
  if (mode_ != Mode::attached) return;
  driver.wakeBackendOnEarlierTimers();
  // The reactor starts when the io_context first runs a handler.
  asio::post(context_, recycled([life = life_] {
               if (AsioBackend* self = life->backend) self->startFromContext();
             }));
}

bool AsioBackend::runLoop(bool installSignalHandlers) {
  if (mode_ != Mode::attached) return false;
  if (context_.stopped()) context_.restart();
  begin(installSignalHandlers);
  while (driver_->running() || driver_->stopRequested()) {
    std::size_t ran = 0;
    try {
      ran = context_.run_one();
    } catch (...) {
      logUnhandled("an Asio handler", std::current_exception());
      continue;
    }
    if (ran == 0) {  // the io_context was stopped: so is the reactor
      if (driver_->running()) driver_->stop();
      runPass();
      break;
    }
  }
  return true;
}

void AsioBackend::wakeUp() {
  if (mode_ != Mode::attached) return;
  switch (phase_) {
    case Phase::withdrawn:  // nothing runs until the reactor starts again
    case Phase::passing:    // the pass schedules the next when it ends
    case Phase::woken: return;
    case Phase::collecting: enter(Phase::woken); return;
    case Phase::idle: scheduleNext(); return;
  }
}

// A wait completed (attached mode): its readiness needs a pass.
void AsioBackend::needPass() {
  switch (phase_) {
    case Phase::withdrawn:
    case Phase::woken: return;
    case Phase::collecting: enter(Phase::woken); return;
    case Phase::idle:
    case Phase::passing: postPass(); return;
  }
}

void AsioBackend::postPass() {
  if (passPosted_) return;
  passPosted_ = true;
  asio::post(context_, recycled([life = life_] {
               if (AsioBackend* self = life->backend) {
                 self->passPosted_ = false;
                 self->runPass();
               }
             }));
}

void AsioBackend::startFromContext() {
  if (driver_->running() || driver_->stopRequested()) return;  // Reactor::run got there first
  begin(false);
}

// Starts the reactor: from the io_context's first handler, from Reactor::run, or inside
// Reactor::iterate's wait (which then takes the first pass's events itself).
void AsioBackend::begin(bool installSignalHandlers) {
  resume();
  {
    PhaseScope starting(*this, Phase::passing);  // wake-ups wait: runPass follows
    driver_->startRunning(installSignalHandlers);
  }
  runPass();
}

// One pass of the reactor on what the handlers gathered, then the next wake-up.
void AsioBackend::runPass() {
  switch (phase_) {
    case Phase::withdrawn:
    case Phase::passing:
    case Phase::woken: return;
    case Phase::collecting: enter(Phase::woken); return;  // Reactor::iterate's wait takes the events
    case Phase::idle: break;
  }
  {
    PhaseScope passing(*this, Phase::passing);
    driver_->runPass();
    if (driver_->stopRequested()) {
      driver_->finishRunning();
      withdraw();
      return;
    }
  }
  rearmDelivered();
  scheduleNext();
}

void AsioBackend::scheduleNext() {
  const int timeoutMs = ready_.empty() ? driver_->passTimeoutMs() : 0;
  if (timeoutMs == 0) {
    postPass();
  } else if (timeoutMs > 0) {
    armTimer(Clock::now() + std::chrono::milliseconds(timeoutMs));
  }
}

void AsioBackend::armTimer(Clock::time_point due) {
  if (timerDue_ && *timerDue_ <= due) return;  // it fires first; that pass re-arms
  timerDue_ = due;
  const std::uint64_t generation = ++timerGeneration_;
  timer_.expires_at(due);
  timer_.async_wait(recycled([life = life_, generation](const asio::error_code& error) {
    if (AsioBackend* self = life->backend) self->timerFired(generation, error);
  }));
}

void AsioBackend::timerFired(std::uint64_t generation, const asio::error_code& error) {
  if (generation != timerGeneration_) return;  // re-armed or withdrawn since
  timerDue_.reset();
  if (!error) runPass();
}

// The reactor stopped: cancel every wait and the timer, so that the io_context runs
// out of torsion's work. Interest is kept for resume().
void AsioBackend::withdraw() {
  enter(Phase::withdrawn);
  for (auto& watch : watches_) {
    if (!watch.descriptor) continue;
    watch.descriptor->cancel();
    watch.generation = ++lastGeneration_;
    watch.armed = 0;
  }
  ++timerGeneration_;
  timerDue_.reset();
  timer_.cancel();
}

// Arms every watch again (the reactor starts, or is iterated by hand, after withdraw).
void AsioBackend::resume() {
  if (phase_ == Phase::withdrawn) enter(Phase::idle);
  for (std::size_t fd = 0; fd < watches_.size(); ++fd) arm(static_cast<int>(fd), watches_[fd]);
}

}  // namespace torsion::detail

namespace torsion {

std::unique_ptr<Reactor> attachToIoContext(asio::io_context& context) {
  return detail::ReactorAccess::make(std::make_unique<detail::AsioBackend>(context));
}

}  // namespace torsion
