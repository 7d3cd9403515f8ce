#include "timer_queue.hpp"

#include <torsion/errors.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace torsion::detail {

TimerQueue::~TimerQueue() {
  // Handles may outlive the queue: leave them inactive rather than dangling.
  for (auto& entry : heap_) {
    entry->queue = nullptr;
    entry->state = TimerEntry::State::cancelled;
    entry->fn = nullptr;
  }
}

DelayedCall TimerQueue::schedule(double delay, std::function<void()> fn) {
  if (!(delay >= 0)) throw std::invalid_argument("callLater: delay must be a non-negative number of seconds");
  auto entry = std::make_shared<TimerEntry>();
  entry->time = now_() + delay;
  entry->sequence = nextSequence_++;
  entry->queue = this;
  entry->fn = std::move(fn);
  heap_.push_back(nullptr);
  place(heap_.size() - 1, entry);
  siftUp(heap_.size() - 1);
  if (onSoonest_ && entry->heapIndex == 0) onSoonest_();
  return DelayedCall(std::move(entry));
}

void TimerQueue::cancel(TimerEntry& entry) {
  removeAt(entry.heapIndex);
  entry.state = TimerEntry::State::cancelled;
  entry.queue = nullptr;
  entry.fn = nullptr;  // release captures now, not when the last handle goes
}

void TimerQueue::reschedule(TimerEntry& entry, double time) {
  entry.time = time;
  entry.sequence = nextSequence_++;
  siftUp(entry.heapIndex);
  siftDown(entry.heapIndex);
  if (onSoonest_ && entry.heapIndex == 0) onSoonest_();
}

std::optional<double> TimerQueue::nextTime() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front()->time;
}

std::size_t TimerQueue::runDue(double now, const std::function<void(std::exception_ptr)>& onError) {
  const std::uint64_t limit = nextSequence_;
  std::size_t ran = 0;
  while (!heap_.empty() && heap_.front()->time <= now && heap_.front()->sequence < limit) {
    std::shared_ptr<TimerEntry> entry = heap_.front();
    removeAt(0);
    entry->state = TimerEntry::State::called;
    entry->queue = nullptr;
    auto fn = std::move(entry->fn);
    entry->fn = nullptr;
    ++ran;
    try {
      fn();
    } catch (...) {
      onError(std::current_exception());
    }
  }
  return ran;
}

std::vector<DelayedCall> TimerQueue::pending() const {
  std::vector<std::shared_ptr<TimerEntry>> sorted(heap_.begin(), heap_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a->time != b->time ? a->time < b->time : a->sequence < b->sequence;
  });
  std::vector<DelayedCall> calls;
  calls.reserve(sorted.size());
  for (auto& entry : sorted) calls.push_back(DelayedCall(entry));
  return calls;
}

bool TimerQueue::earlier(std::size_t a, std::size_t b) const {
  const TimerEntry& x = *heap_[a];
  const TimerEntry& y = *heap_[b];
  return x.time != y.time ? x.time < y.time : x.sequence < y.sequence;
}

void TimerQueue::place(std::size_t index, std::shared_ptr<TimerEntry> entry) {
  entry->heapIndex = index;
  heap_[index] = std::move(entry);
}

void TimerQueue::siftUp(std::size_t index) {
  while (index > 0) {
    std::size_t parent = (index - 1) / 2;
    if (!earlier(index, parent)) break;
    std::swap(heap_[index], heap_[parent]);
    heap_[index]->heapIndex = index;
    heap_[parent]->heapIndex = parent;
    index = parent;
  }
}

void TimerQueue::siftDown(std::size_t index) {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t smallest = index;
    std::size_t left = 2 * index + 1;
    std::size_t right = left + 1;
    if (left < n && earlier(left, smallest)) smallest = left;
    if (right < n && earlier(right, smallest)) smallest = right;
    if (smallest == index) break;
    std::swap(heap_[index], heap_[smallest]);
    heap_[index]->heapIndex = index;
    heap_[smallest]->heapIndex = smallest;
    index = smallest;
  }
}

void TimerQueue::removeAt(std::size_t index) {
  const std::size_t last = heap_.size() - 1;
  if (index != last) {
    std::swap(heap_[index], heap_[last]);
    heap_[index]->heapIndex = index;
  }
  heap_.pop_back();
  if (index < heap_.size()) {
    siftUp(index);
    siftDown(index);
  }
}

}  // namespace torsion::detail

namespace torsion {

namespace {
void requireActive(const detail::TimerEntry& entry) {
  if (entry.state == detail::TimerEntry::State::called) throw AlreadyCalled();
  if (entry.state == detail::TimerEntry::State::cancelled || entry.queue == nullptr) throw AlreadyCancelled();
}
}  // namespace

double DelayedCall::getTime() const {
  if (!entry_) throw std::logic_error("DelayedCall::getTime on an empty handle");
  return entry_->time;
}

void DelayedCall::cancel() {
  if (!entry_) throw std::logic_error("DelayedCall::cancel on an empty handle");
  requireActive(*entry_);
  entry_->queue->cancel(*entry_);
}

void DelayedCall::reset(double secondsFromNow) {
  if (!entry_) throw std::logic_error("DelayedCall::reset on an empty handle");
  requireActive(*entry_);
  entry_->queue->reschedule(*entry_, entry_->queue->now() + secondsFromNow);
}

void DelayedCall::delay(double secondsLater) {
  if (!entry_) throw std::logic_error("DelayedCall::delay on an empty handle");
  requireActive(*entry_);
  entry_->queue->reschedule(*entry_, entry_->time + secondsLater);
}

bool DelayedCall::active() const noexcept {
  return entry_ && entry_->state == detail::TimerEntry::State::pending && entry_->queue != nullptr;
}

bool DelayedCall::called() const noexcept { return entry_ && entry_->state == detail::TimerEntry::State::called; }

bool DelayedCall::cancelled() const noexcept { return entry_ && entry_->state == detail::TimerEntry::State::cancelled; }

}  // namespace torsion
