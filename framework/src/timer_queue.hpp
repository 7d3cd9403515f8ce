// Internal. TimerQueue: the scheduled calls of one reactor or testing::Clock.
#pragma once

#include <torsion/delayed_call.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace torsion::detail {

class TimerQueue;
class TimerEntryPool;

/// One scheduled call. Counted by the queue (while pending) and by every DelayedCall
/// handle; the last of them gives it back to its pool.
struct TimerEntry {
  enum class State : std::uint8_t { pending, called, cancelled };
  double time = 0;  // also in the heap's slot while pending; kept here for getTime
  std::size_t heapIndex = 0;
  std::uint32_t references = 0;  // thread-confined, like the handles that hold them
  State state = State::pending;
  TimerQueue* queue = nullptr;  // null once the call ran, was cancelled or the queue is gone
  TimerEntryPool* pool = nullptr;
  std::function<void()> fn;
  TimerEntry* nextFree = nullptr;  // while in the pool's free list
};

/// Counts one more reference to `entry`.
void retain(TimerEntry& entry) noexcept;

/// Drops a reference to `entry`; the last one gives it back to its pool.
void release(TimerEntry& entry) noexcept;

/// Where a queue's entries live: slabs of entries, filled in bulk, and a free list of
/// entries given back. A burst of timers costs a few slab mappings instead of a page
/// fault per page of malloc'd entries (dear in a VM), and steady-state callLater reuses
/// entries without calling malloc. The slabs stay until the pool goes, which is when the
/// queue is gone and every handle to its entries too (handles may outlive the queue).
class TimerEntryPool {
 public:
  TimerEntryPool() = default;
  TimerEntryPool(const TimerEntryPool&) = delete;
  TimerEntryPool& operator=(const TimerEntryPool&) = delete;

  /// An entry with `pool` set and no references, for the caller to fill in (a recycled
  /// one keeps its last time and state); counts as live until recycled.
  TimerEntry* acquire();

  /// Takes back an entry no one refers to any more.
  void recycle(TimerEntry* entry) noexcept;

  /// The queue lets go; the pool frees itself now or when its last entry comes back.
  void detachQueue() noexcept;

 private:
  struct Slab {
    void* memory;
    std::size_t bytes;
    std::size_t constructed;
  };
  ~TimerEntryPool();
  void growSlab();
  void deleteIfUnused() noexcept;

  std::vector<Slab> slabs_;
  TimerEntry* free_ = nullptr;
  TimerEntry* fresh_ = nullptr;  // the next never-used entry of the newest slab
  TimerEntry* freshEnd_ = nullptr;
  std::size_t live_ = 0;
  bool queueAttached_ = true;
};

/// A binary min-heap keyed by (time, sequence), with each entry knowing its position so
/// cancel and reset are O(log n) without tombstones. The keys sit in the heap's own
/// array beside the entry pointer, so sifting compares without touching the entries.
class TimerQueue {
 public:
  explicit TimerQueue(std::function<double()> now);
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
  struct Slot {
    double time;
    std::uint64_t sequence;  // breaks ties: equal times run in scheduling order
    TimerEntry* entry;
  };
  static bool earlier(const Slot& a, const Slot& b) noexcept {
    return a.time != b.time ? a.time < b.time : a.sequence < b.sequence;
  }
  void place(std::size_t index, const Slot& slot) noexcept;
  void siftUp(std::size_t index) noexcept;
  void siftDown(std::size_t index) noexcept;
  TimerEntry* removeAt(std::size_t index) noexcept;

  std::function<double()> now_;
  std::vector<Slot> heap_;
  std::uint64_t nextSequence_ = 0;
  std::function<void()> onSoonest_;
  TimerEntryPool* pool_;
};

}  // namespace torsion::detail
