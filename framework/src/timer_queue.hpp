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

/// The links of a doubly linked ring: a wheel slot's list of entries, whose head is a
/// sentinel link so that unlinking never needs to know which slot holds the entry.
struct TimerLink {
  TimerLink* prev = nullptr;
  TimerLink* next = nullptr;  // also the pool's free list, while the entry is free
};

/// One scheduled call. Counted by the queue (while pending) and by every DelayedCall
/// handle; the last of them gives it back to its pool.
struct TimerEntry : TimerLink {
  enum class State : std::uint8_t { pending, called, cancelled };
  /// Which of the queue's two stores holds a pending entry.
  enum class Store : std::uint8_t { heap, wheel };
  double time = 0;             // also in the heap's slot while there; kept here for getTime
  std::uint64_t sequence = 0;  // breaks ties: equal times run in scheduling order
  std::size_t heapIndex = 0;
  std::uint32_t references = 0;  // thread-confined, like the handles that hold them
  State state = State::pending;
  Store store = Store::heap;
  std::uint8_t level = 0;  // the wheel slot holding it, while store is wheel
  std::uint8_t slot = 0;
  TimerQueue* queue = nullptr;  // null once the call ran, was cancelled or the queue is gone
  TimerEntryPool* pool = nullptr;
  std::function<void()> fn;
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

/// The scheduled calls, in two stores. Calls whose millisecond tick is at or before the
/// wheel's cursor (which never runs more than 64 ms ahead of the clock) sit in a binary
/// min-heap keyed by (time, sequence), which gives the exact order Twisted promises; the
/// rest sit in a hierarchical timing wheel of 1 ms ticks, where scheduling and
/// cancelling are O(1) list operations. A wheel slot is sorted into the heap only when
/// its tick comes up (or nextTime needs the soonest call), so a timeout cancelled before
/// it is due never costs a heap operation.
///
/// The wheel is radix-aligned: with `elapsed_` the current tick, an entry's level is the
/// highest base-64 digit in which its tick differs from `elapsed_`, and its slot is that
/// digit. Every entry of a lower level is therefore due before every entry of a higher
/// one, and slots of a level are in time order, so the soonest slot is found with two
/// count-trailing-zeros over occupancy bitmaps. Reaching a slot of level L > 0 re-files
/// its entries into lower levels ("cascading"); each entry moves at most once per level.
/// `elapsed_` only ever moves forward to the start of the soonest occupied slot, never
/// past a pending call; the heap holds exactly the calls whose tick is at most `elapsed_`.
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

  /// When the loop should next run timers, if any call is pending: the soonest call's
  /// exact time when that is within 64 ms of `now` (or already past), else a time no
  /// later than it and more than 64 ms away, where the wheel's slot holding it starts.
  /// Waking there re-files the slot a level down, so a far call costs a loop at most one
  /// early wake-up per level (a handful), and the cursor never runs far ahead of the
  /// clock. Not const: it sorts the soonest slot into the heap to learn the exact time.
  std::optional<double> nextTime(double now);

  /// Runs every call due at `now` that was scheduled before this call began; calls
  /// scheduled while it runs wait for the next one, so timers never starve I/O.
  /// `onError` receives exceptions escaping a call. Returns how many ran.
  std::size_t runDue(double now, const std::function<void(std::exception_ptr)>& onError);

  double now() const { return now_(); }
  std::size_t size() const noexcept { return heap_.size() + wheelCount_; }
  std::vector<DelayedCall> pending() const;

  /// Calls `fn` whenever schedule or reschedule may have made an entry the soonest, so a
  /// loop driven from outside (Asio's attached mode) can move its wake-up earlier.
  void onSoonestChanged(std::function<void()> fn) { onSoonest_ = std::move(fn); }

 private:
  struct Slot {
    double time;
    std::uint64_t sequence;
    TimerEntry* entry;
  };
  struct WheelSlot {
    unsigned level;
    unsigned slot;
  };
  static constexpr unsigned kSlotBits = 6;
  static constexpr unsigned kSlots = 1u << kSlotBits;
  static constexpr unsigned kLevels = (64 + kSlotBits - 1) / kSlotBits;  // every 64-bit tick

  static bool earlier(const Slot& a, const Slot& b) noexcept {
    return a.time != b.time ? a.time < b.time : a.sequence < b.sequence;
  }
  /// Files a pending entry into the heap or the wheel, by its tick.
  void insert(TimerEntry* entry) noexcept;
  void unlinkFromWheel(TimerEntry* entry) noexcept;
  /// Takes the entry out of whichever store holds it.
  void remove(TimerEntry* entry) noexcept;
  /// Moves `elapsed_` to the soonest occupied slot and re-files that slot's entries.
  void cascadeSoonestSlot() noexcept;
  /// The occupied slot of the lowest level, which holds the wheel's soonest calls; only
  /// for a wheel that holds entries.
  WheelSlot soonestSlot() const noexcept;
  /// The first tick a slot covers, relative to the cursor.
  std::uint64_t startOf(WheelSlot where) const noexcept;
  /// Clears the occupancy bits of a slot left without entries.
  void markEmpty(WheelSlot where) noexcept;
  bool maybeSoonest(const TimerEntry& entry) const noexcept;
  std::vector<Slot> allPending() const;
  /// Calls `visit` on every pending entry, heap then wheel, in no particular order; the
  /// visit may release the entry, but must not file or unlink any.
  template <typename Visit>
  void forEachPending(Visit visit) const;

  void pushHeap(TimerEntry* entry) noexcept;
  void place(std::size_t index, const Slot& slot) noexcept;
  void siftUp(std::size_t index) noexcept;
  void siftDown(std::size_t index) noexcept;
  TimerEntry* removeAt(std::size_t index) noexcept;

  std::function<double()> now_;
  std::vector<Slot> heap_;                // capacity kept at size() or more, so filing never allocates
  TimerLink wheel_[kLevels][kSlots];      // sentinels of each slot's ring
  std::uint64_t occupied_[kLevels] = {};  // bit s of level l: slot s holds entries
  std::uint32_t occupiedLevels_ = 0;      // bit l: occupied_[l] is not zero
  std::uint64_t elapsed_ = 0;             // in ticks: heap ticks <= elapsed_ < wheel ticks
  std::size_t wheelCount_ = 0;
  std::uint64_t nextSequence_ = 0;
  std::function<void()> onSoonest_;
  TimerEntryPool* pool_;
};

}  // namespace torsion::detail
