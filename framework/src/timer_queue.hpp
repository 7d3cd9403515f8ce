// Internal. TimerQueue: the scheduled calls of one reactor or testing::Clock.
#pragma once

#include <torsion/delayed_call.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace torsion::detail {

class TimerQueue;

/// One scheduled call. Shared by the queue (while pending) and every DelayedCall handle.
struct TimerEntry {
  enum class State : std::uint8_t { pending, called, cancelled };
  double time = 0;
  std::uint64_t sequence = 0;  // breaks ties: equal times run in scheduling order
  std::size_t heapIndex = 0;
  State state = State::pending;
  TimerQueue* queue = nullptr;  // null once the queue is gone
  std::function<void()> fn;
};

/// A binary min-heap of entries keyed by (time, sequence), with each entry knowing its
/// position so cancel and reset are O(log n) without tombstones.
class TimerQueue {
 public:
  explicit TimerQueue(std::function<double()> now) : now_(std::move(now)) {}
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Schedules `fn` at `now() + delay`.
  DelayedCall schedule(double delay, std::function<void()> fn);

  void cancel(TimerEntry& entry);
  void reschedule(TimerEntry& entry, double time);

  /// When the soonest call is due, if any.
  std::optional<double> nextTime() const;

  /// Runs every call due at `now` that was scheduled before this call began; calls
  /// scheduled while it runs wait for the next one, so timers never starve I/O.
  /// `onError` receives exceptions escaping a call. Returns how many ran.
  std::size_t runDue(double now, const std::function<void(std::exception_ptr)>& onError);

  double now() const { return now_(); }
  std::size_t size() const noexcept { return heap_.size(); }
  std::vector<DelayedCall> pending() const;

  /// Calls `fn` whenever schedule or reschedule makes an entry the soonest, so a loop
  /// driven from outside (Asio's attached mode) can move its wake-up earlier.
  void onSoonestChanged(std::function<void()> fn) { onSoonest_ = std::move(fn); }

 private:
  bool earlier(std::size_t a, std::size_t b) const;
  void place(std::size_t index, std::shared_ptr<TimerEntry> entry);
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);
  void removeAt(std::size_t index);

  std::function<double()> now_;
  std::vector<std::shared_ptr<TimerEntry>> heap_;
  std::uint64_t nextSequence_ = 0;
  std::function<void()> onSoonest_;
};

}  // namespace torsion::detail
