#include "timer_queue.hpp"

#include <torsion/errors.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <new>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// A recycled entry is poisoned until it is handed out again, so ASan still reports a
// handle or queue that touches an entry after its last reference went.
#define TORSION_POISON(memory, bytes) ASAN_POISON_MEMORY_REGION((memory), (bytes))
#define TORSION_UNPOISON(memory, bytes) ASAN_UNPOISON_MEMORY_REGION((memory), (bytes))
#else
#define TORSION_POISON(memory, bytes) ((void)(memory), (void)(bytes))
#define TORSION_UNPOISON(memory, bytes) ((void)(memory), (void)(bytes))
#endif

namespace torsion::detail {

// ---------------------------------------------------------------- entries and their pool

void retain(TimerEntry& entry) noexcept { ++entry.references; }

void release(TimerEntry& entry) noexcept {
  if (--entry.references == 0) entry.pool->recycle(&entry);
}

namespace {
// Slabs double from 4 KiB to 2 MiB: a reactor with a few timers maps one page, a burst
// of a million maps a few dozen slabs.
constexpr std::size_t kFirstSlabBytes = 4096;
constexpr std::size_t kLargestSlabBytes = std::size_t{2} << 20;
}  // namespace

TimerEntryPool::~TimerEntryPool() {
  for (const Slab& slab : slabs_) {
    TORSION_UNPOISON(slab.memory, slab.bytes);
    auto* entries = static_cast<TimerEntry*>(slab.memory);
    for (std::size_t i = 0; i < slab.constructed; i++) entries[i].~TimerEntry();
    ::munmap(slab.memory, slab.bytes);
  }
}

TimerEntry* TimerEntryPool::acquire() {
  TimerEntry* entry = free_;
  if (entry != nullptr) {
    TORSION_UNPOISON(entry, sizeof(TimerEntry));
    free_ = static_cast<TimerEntry*>(entry->next);
    entry->next = nullptr;
  } else {
    if (fresh_ == freshEnd_) growSlab();
    entry = new (fresh_++) TimerEntry();
    ++slabs_.back().constructed;
    entry->pool = this;
  }
  ++live_;
  return entry;
}

void TimerEntryPool::growSlab() {
  std::size_t bytes = slabs_.empty() ? kFirstSlabBytes : std::min(slabs_.back().bytes * 2, kLargestSlabBytes);
  slabs_.reserve(slabs_.size() + 1);  // so nothing below can throw once the slab is mapped
  // MAP_POPULATE fills the slab in one call: one page fault per page is what made a
  // burst of callLater dear.
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  slabs_.push_back(Slab{memory, bytes, 0});
  fresh_ = static_cast<TimerEntry*>(memory);
  freshEnd_ = fresh_ + bytes / sizeof(TimerEntry);
}

void TimerEntryPool::recycle(TimerEntry* entry) noexcept {
  // Captures go now; destroying them may drop handles to other entries of this pool,
  // which is fine while this entry still counts as live. The other fields are the next
  // schedule's to set.
  entry->fn = nullptr;
  entry->next = free_;
  free_ = entry;
  TORSION_POISON(entry, sizeof(TimerEntry));
  --live_;
  deleteIfUnused();
}

void TimerEntryPool::detachQueue() noexcept {
  queueAttached_ = false;
  deleteIfUnused();
}

void TimerEntryPool::deleteIfUnused() noexcept {
  if (!queueAttached_ && live_ == 0) delete this;
}

// ---------------------------------------------------------------- the queue

namespace {
constexpr std::uint64_t kNoTick = std::numeric_limits<std::uint64_t>::max();

// The wheel's tick: a millisecond, as the reactor's waits are. Monotonic in `time`, so
// a call whose tick is after now's tick is not due yet.
std::uint64_t tickOf(double time) noexcept {
  const double ms = time * 1000.0;
  if (!(ms > 0)) return 0;                           // before the clock's epoch (or NaN): due at once anyway
  if (ms >= 18446744073709549568.0) return kNoTick;  // callLater(inf)
  return static_cast<std::uint64_t>(ms);
}
}  // namespace

TimerQueue::TimerQueue(std::function<double()> now) : now_(std::move(now)), pool_(new TimerEntryPool()) {
  for (auto& level : wheel_) {
    for (TimerLink& sentinel : level) sentinel.prev = sentinel.next = &sentinel;
  }
}

TimerQueue::~TimerQueue() {
  // Handles may outlive the queue: leave them inactive rather than dangling.
  // Every entry is inactive before any capture is destroyed, since a capture's destructor
  // may look at (or try to cancel) another of these calls. Nothing here allocates.
  forEachPending([](TimerEntry* entry) {
    entry->queue = nullptr;
    entry->state = TimerEntry::State::cancelled;
  });
  forEachPending([](TimerEntry* entry) { entry->fn = nullptr; });
  forEachPending([](TimerEntry* entry) { release(*entry); });
  heap_.clear();
  wheelCount_ = 0;
  pool_->detachQueue();
}

DelayedCall TimerQueue::schedule(double delay, std::function<void()> fn) {
  if (!(delay >= 0)) throw std::invalid_argument("callLater: delay must be a non-negative number of seconds");
  const double now = now_();
  const double time = now + delay;
  // Grow before the entry exists, so a throw leaks nothing; doubling, as push_back would.
  // Room for every pending call means moving wheel slots into the heap never allocates.
  if (heap_.capacity() <= size()) heap_.reserve(std::max<std::size_t>(64, heap_.capacity() * 2));
  TimerEntry* entry = pool_->acquire();
  // With the wheel empty its cursor may jump to the present, so that soon calls file
  // into low levels (the heap's calls are all before the old cursor, so before the new).
  if (wheelCount_ == 0) elapsed_ = std::max(elapsed_, tickOf(now));
  entry->time = time;
  entry->sequence = nextSequence_++;
  entry->state = TimerEntry::State::pending;  // a recycled entry still holds its last state
  entry->queue = this;
  entry->fn = std::move(fn);
  retain(*entry);  // the queue's reference, until the call runs or is cancelled
  insert(entry);
  if (onSoonest_ && maybeSoonest(*entry)) onSoonest_();
  return DelayedCall(entry);
}

void TimerQueue::cancel(TimerEntry& entry) {
  remove(&entry);
  entry.state = TimerEntry::State::cancelled;
  entry.queue = nullptr;
  entry.fn = nullptr;  // release captures now, not when the last handle goes
  release(entry);
}

void TimerQueue::reschedule(TimerEntry& entry, double time) {
  remove(&entry);
  entry.time = time;
  entry.sequence = nextSequence_++;
  insert(&entry);
  if (onSoonest_ && maybeSoonest(entry)) onSoonest_();
}

std::optional<double> TimerQueue::nextTime(double now) {
  // The heap's calls are all before the wheel's. With none there, the wheel's soonest
  // slot comes down level by level until its calls are in the heap, in exact order, but
  // only while that slot starts within a level-0 span of now: moving the cursor further
  // ahead of the clock would send every call scheduled meanwhile to the heap.
  const std::uint64_t nowTick = tickOf(now);
  const std::uint64_t horizon = nowTick > kNoTick - kSlots ? kNoTick : nowTick + kSlots;
  while (heap_.empty() && wheelCount_ != 0) {
    const std::uint64_t start = startOf(soonestSlot());
    if (start > horizon) return static_cast<double>(start) / 1000.0;  // no call is sooner
    cascadeSoonestSlot();
  }
  if (heap_.empty()) return std::nullopt;
  return heap_.front().time;
}

std::size_t TimerQueue::runDue(double now, const std::function<void(std::exception_ptr)>& onError) {
  const std::uint64_t nowTick = tickOf(now);
  while (wheelCount_ != 0 && startOf(soonestSlot()) <= nowTick) cascadeSoonestSlot();
  // Every call still in the wheel has a later tick than now, so is not due.
  const std::uint64_t limit = nextSequence_;
  std::size_t ran = 0;
  while (!heap_.empty() && heap_.front().time <= now && heap_.front().sequence < limit) {
    TimerEntry* entry = removeAt(0);
    entry->state = TimerEntry::State::called;
    entry->queue = nullptr;
    auto fn = std::move(entry->fn);
    entry->fn = nullptr;
    release(*entry);  // handles still see it as called; the entry is gone if none is left
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
  std::vector<Slot> sorted = allPending();
  std::sort(sorted.begin(), sorted.end(), earlier);
  std::vector<DelayedCall> calls;
  calls.reserve(sorted.size());
  for (const Slot& slot : sorted) calls.push_back(DelayedCall(slot.entry));
  return calls;
}

std::vector<TimerQueue::Slot> TimerQueue::allPending() const {
  std::vector<Slot> entries;
  entries.reserve(size());
  forEachPending([&entries](TimerEntry* entry) { entries.push_back(Slot{entry->time, entry->sequence, entry}); });
  return entries;
}

template <typename Visit>
void TimerQueue::forEachPending(Visit visit) const {
  for (const Slot& slot : heap_) visit(slot.entry);
  for (std::uint32_t levels = occupiedLevels_; levels != 0; levels &= levels - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(levels));
    for (std::uint64_t slots = occupied_[level]; slots != 0; slots &= slots - 1) {
      const TimerLink& sentinel = wheel_[level][std::countr_zero(slots)];
      for (TimerLink* link = sentinel.next; link != &sentinel;) {
        TimerLink* next = link->next;  // first: visiting may give the entry back to the pool
        visit(static_cast<TimerEntry*>(link));
        link = next;
      }
    }
  }
}

// ---------------------------------------------------------------- the wheel

void TimerQueue::insert(TimerEntry* entry) noexcept {
  const std::uint64_t tick = tickOf(entry->time);
  if (tick <= elapsed_) {
    pushHeap(entry);
    return;
  }
  const auto level = static_cast<unsigned>(63 - std::countl_zero(tick ^ elapsed_)) / kSlotBits;
  const auto slot = static_cast<unsigned>(tick >> (level * kSlotBits)) & (kSlots - 1);
  TimerLink& sentinel = wheel_[level][slot];
  entry->prev = sentinel.prev;  // at the tail: cascading keeps scheduling order in a slot
  entry->next = &sentinel;
  sentinel.prev->next = entry;
  sentinel.prev = entry;
  occupied_[level] |= std::uint64_t{1} << slot;
  occupiedLevels_ |= 1u << level;
  entry->store = TimerEntry::Store::wheel;
  entry->level = static_cast<std::uint8_t>(level);
  entry->slot = static_cast<std::uint8_t>(slot);
  ++wheelCount_;
}

void TimerQueue::unlinkFromWheel(TimerEntry* entry) noexcept {
  entry->prev->next = entry->next;
  entry->next->prev = entry->prev;
  entry->prev = entry->next = nullptr;
  --wheelCount_;
  const TimerLink& sentinel = wheel_[entry->level][entry->slot];
  if (sentinel.next == &sentinel) markEmpty(WheelSlot{entry->level, entry->slot});
}

void TimerQueue::markEmpty(WheelSlot where) noexcept {
  occupied_[where.level] &= ~(std::uint64_t{1} << where.slot);
  if (occupied_[where.level] == 0) occupiedLevels_ &= ~(1u << where.level);
}

void TimerQueue::remove(TimerEntry* entry) noexcept {
  if (entry->store == TimerEntry::Store::wheel) {
    unlinkFromWheel(entry);
  } else {
    removeAt(entry->heapIndex);
  }
}

TimerQueue::WheelSlot TimerQueue::soonestSlot() const noexcept {
  // Lower levels hold sooner calls, and a level's slots are in time order: no slot of a
  // level lies before the cursor's digit, since every entry is after elapsed_.
  const auto level = static_cast<unsigned>(std::countr_zero(occupiedLevels_));
  // Callers look only at a wheel holding entries, so some level is occupied; saying so
  // lets the optimiser see that the level indexes the arrays in bounds.
  if (level >= kLevels) __builtin_unreachable();
  return WheelSlot{level, static_cast<unsigned>(std::countr_zero(occupied_[level]))};
}

std::uint64_t TimerQueue::startOf(WheelSlot where) const noexcept {
  const unsigned shift = where.level * kSlotBits;
  const unsigned above = shift + kSlotBits;
  const std::uint64_t prefix = above >= 64 ? 0 : (elapsed_ >> above) << above;
  return prefix | (std::uint64_t{where.slot} << shift);
}

void TimerQueue::cascadeSoonestSlot() noexcept {
  const WheelSlot soonest = soonestSlot();
  // No entry is before this slot's start, so the cursor may move there; relative to it,
  // this slot's entries belong to lower levels (or, at level 0, to the heap), and every
  // other slot stays where it is.
  elapsed_ = startOf(soonest);
  TimerLink& sentinel = wheel_[soonest.level][soonest.slot];
  TimerLink* link = sentinel.next;
  sentinel.next->prev = nullptr;
  sentinel.prev->next = nullptr;
  sentinel.prev = sentinel.next = &sentinel;
  markEmpty(soonest);
  while (link != nullptr) {
    TimerLink* next = link->next;
    --wheelCount_;
    insert(static_cast<TimerEntry*>(link));
    link = next;
  }
}

bool TimerQueue::maybeSoonest(const TimerEntry& entry) const noexcept {
  if (entry.store == TimerEntry::Store::heap) return entry.heapIndex == 0;
  // In the wheel it can be the soonest only with the heap empty and in the soonest slot.
  if (!heap_.empty()) return false;
  const WheelSlot soonest = soonestSlot();
  return entry.level == soonest.level && entry.slot == soonest.slot;
}

// ---------------------------------------------------------------- the heap

void TimerQueue::pushHeap(TimerEntry* entry) noexcept {
  entry->store = TimerEntry::Store::heap;
  heap_.push_back(Slot{entry->time, entry->sequence, entry});  // capacity reserved by schedule
  entry->heapIndex = heap_.size() - 1;
  siftUp(heap_.size() - 1);
}

void TimerQueue::place(std::size_t index, const Slot& slot) noexcept {
  heap_[index] = slot;
  slot.entry->heapIndex = index;
}

void TimerQueue::siftUp(std::size_t index) noexcept {
  const Slot moving = heap_[index];
  while (index > 0) {
    std::size_t parent = (index - 1) / 2;
    if (!earlier(moving, heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, moving);
}

void TimerQueue::siftDown(std::size_t index) noexcept {
  const std::size_t n = heap_.size();
  const Slot moving = heap_[index];
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], moving)) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, moving);
}

TimerEntry* TimerQueue::removeAt(std::size_t index) noexcept {
  TimerEntry* removed = heap_[index].entry;
  const std::size_t last = heap_.size() - 1;
  if (index != last) place(index, heap_[last]);
  heap_.pop_back();
  if (index < heap_.size()) {
    TimerEntry* moved = heap_[index].entry;
    siftUp(index);
    siftDown(moved->heapIndex);
  }
  return removed;
}

}  // namespace torsion::detail

namespace torsion {

namespace {
void requireActive(const detail::TimerEntry& entry) {
  if (entry.state == detail::TimerEntry::State::called) throw AlreadyCalled();
  if (entry.state == detail::TimerEntry::State::cancelled || entry.queue == nullptr) throw AlreadyCancelled();
}
}  // namespace

DelayedCall::DelayedCall(detail::TimerEntry* entry) noexcept : entry_(entry) {
  if (entry_ != nullptr) detail::retain(*entry_);
}

DelayedCall::DelayedCall(const DelayedCall& other) noexcept : DelayedCall(other.entry_) {}

DelayedCall& DelayedCall::operator=(const DelayedCall& other) noexcept {
  if (other.entry_ != nullptr) detail::retain(*other.entry_);  // first: self-assignment is safe
  if (entry_ != nullptr) detail::release(*entry_);
  entry_ = other.entry_;
  return *this;
}

DelayedCall& DelayedCall::operator=(DelayedCall&& other) noexcept {
  if (this != &other) {
    if (entry_ != nullptr) detail::release(*entry_);
    entry_ = other.entry_;
    other.entry_ = nullptr;
  }
  return *this;
}

DelayedCall::~DelayedCall() {
  if (entry_ != nullptr) detail::release(*entry_);
}

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
