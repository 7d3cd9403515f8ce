#include <torsion/testing/clock.hpp>

#include "timer_queue.hpp"

#include <stdexcept>

namespace torsion::testing {

Clock::Clock() : queue_(std::make_unique<detail::TimerQueue>([this] { return now_; })) {}

Clock::~Clock() = default;

double Clock::seconds() const { return now_; }

DelayedCall Clock::callLater(double delaySeconds, std::function<void()> fn) {
  return queue_->schedule(delaySeconds, std::move(fn));
}

std::vector<DelayedCall> Clock::getDelayedCalls() const { return queue_->pending(); }

void Clock::advance(double amount) {
  if (!(amount >= 0)) throw std::invalid_argument("Clock::advance: amount must be a non-negative number of seconds");
  now_ += amount;
  // runDue leaves calls scheduled during its run for the next pass (so the reactor's
  // timers never starve I/O); a test clock has no I/O, and Twisted's Clock runs such
  // calls in the same advance when they are due, so loop until nothing due is left.
  const auto propagate = [](std::exception_ptr error) { std::rethrow_exception(error); };
  for (auto next = queue_->nextTime(now_); next && *next <= now_; next = queue_->nextTime(now_)) {
    queue_->runDue(now_, propagate);
  }
}

void Clock::pump(const std::vector<double>& timings) {
  for (double amount : timings) advance(amount);
}

}  // namespace torsion::testing
