// Public only because Deferred<T> is a template over it: the type-erased callback chain
// every Deferred handle shares. Not part of the API; it may change without notice.
#pragma once

#include <torsion/failure.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace torsion::detail {

/// Identifies a C++ type at run time without comparing type_info objects: each type has
/// one TypeTag object, so tags compare by address.
struct TypeTag {
  const std::type_info& (*info)() noexcept;  ///< the type's type_info, for messages
};

/// The TypeTag of T.
template <class T>
inline constexpr TypeTag typeTag{[]() noexcept -> const std::type_info& { return typeid(T); }};

/// The demangled name of a tagged type, for error messages.
std::string typeName(const TypeTag& tag);

/// Storage for the value a chain carries from one step to the next, whatever its type.
/// Small values live inside the box; others on the heap.
class ValueBox {
 public:
  ValueBox() noexcept = default;
  ValueBox(ValueBox&& other) noexcept { takeFrom(other); }
  ValueBox& operator=(ValueBox&& other) noexcept {
    if (this != &other) {
      reset();
      takeFrom(other);
    }
    return *this;
  }
  ValueBox(const ValueBox&) = delete;
  ValueBox& operator=(const ValueBox&) = delete;
  ~ValueBox() { reset(); }

  /// Replaces the content with a T made from `args`.
  template <class T, class... Args>
  T& emplace(Args&&... args) {
    reset();
    if constexpr (fitsInline<T>) {
      T* object = ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
      ops_ = &opsFor<T>();
      return *object;
    } else {
      T* object = new T(std::forward<Args>(args)...);
      ::new (static_cast<void*>(storage_)) T*(object);
      ops_ = &opsFor<T>();
      return *object;
    }
  }

  /// The content, which must be a T (the typed layer guarantees it; a mismatch is a bug
  /// in torsion and throws std::logic_error rather than reading the wrong type).
  template <class T>
  T& get() {
    if (ops_ == nullptr || ops_->type != &typeTag<T>) throwMismatch(typeTag<T>);
    if constexpr (fitsInline<T>) {
      return *inlinePointer<T>(*this);
    } else {
      return *heapPointer<T>(*this);
    }
  }

  /// Destroys the content, if any.
  void reset() noexcept {
    if (ops_ != nullptr) ops_->destroy(*this);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    void (*destroy)(ValueBox&) noexcept;
    void (*move)(ValueBox& to, ValueBox& from) noexcept;
    const TypeTag* type;
  };

  static constexpr std::size_t kInlineSize = 3 * sizeof(void*);

  template <class T>
  static constexpr bool fitsInline = sizeof(T) <= kInlineSize &&
                                     alignof(T) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<T>;

  template <class T>
  static T* inlinePointer(ValueBox& box) noexcept {
    return std::launder(reinterpret_cast<T*>(box.storage_));
  }

  template <class T>
  static T* heapPointer(ValueBox& box) noexcept {
    return *std::launder(reinterpret_cast<T**>(box.storage_));
  }

  template <class T>
  static void destroy(ValueBox& box) noexcept {
    if constexpr (fitsInline<T>) {
      inlinePointer<T>(box)->~T();
    } else {
      delete heapPointer<T>(box);
    }
  }

  template <class T>
  static void move(ValueBox& to, ValueBox& from) noexcept {
    if constexpr (fitsInline<T>) {
      ::new (static_cast<void*>(to.storage_)) T(std::move(*inlinePointer<T>(from)));
      inlinePointer<T>(from)->~T();
    } else {
      ::new (static_cast<void*>(to.storage_)) T*(heapPointer<T>(from));
    }
  }

  // One Ops object per type, so ops_ also identifies the type.
  template <class T>
  static const Ops& opsFor() noexcept {
    static constexpr Ops ops{&destroy<T>, &move<T>, &typeTag<T>};
    return ops;
  }

  void takeFrom(ValueBox& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(*this, other);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;

  [[noreturn]] void throwMismatch(const TypeTag& wanted) const;
};

class Chain;

/// What a step does with the chain's result.
enum class StepKind : std::uint8_t {
  pair,          ///< runs a callback or an errback on it (run())
  continuation,  ///< hands it to the chain waiting on this one (Twisted's _CONTINUE)
  chained,       ///< fires another chain with it (chainDeferred)
};

/// One (callback, errback) pair of a chain. run() replaces the chain's result with what
/// the pair made of it; it returns a chain to wait for when the callback returned a
/// Deferred that cannot be taken at once.
class Step {
 public:
  explicit Step(StepKind stepKind = StepKind::pair) noexcept : kind(stepKind) {}
  virtual ~Step() = default;
  Step& operator=(const Step&) = delete;

  /// Applies the pair to `chain`'s current result. Never throws: a callback's exception
  /// becomes the chain's Failure.
  virtual std::shared_ptr<Chain> run(Chain& chain) noexcept = 0;

  /// Called when the chain this step belongs to can no longer be fired by anyone but
  /// its waiters (see ChainHold): a step that keeps its waiter alive (a continuation,
  /// a combinator's observer) holds it weakly from now on, so the two are no cycle.
  virtual void weaken() noexcept {}

  /// What the step does (continuation and chained steps are run by the chain itself).
  const StepKind kind;

 protected:
  // Typed steps are built on the stack, then run there or moved to the heap.
  Step(const Step&) = default;
};

/// A strong reference to a chain from one that waits on it (an outer Deferred waiting
/// on the Deferred its callback returned, a DeferredList's canceller holding its
/// inputs), so that cancelling the waiter reaches a chain nobody else holds. The chain
/// counts these: once they are all that is left of it, nobody can fire it but a
/// waiter's cancel(), and it weakens the steps that hold its waiters (Step::weaken),
/// which breaks the cycle a waiter and its input would otherwise form.
class ChainHold {
 public:
  ChainHold() noexcept = default;
  /// Holds `chain` (may be null).
  explicit ChainHold(std::shared_ptr<Chain> chain) noexcept;
  ChainHold(const ChainHold& other) noexcept;
  ChainHold(ChainHold&& other) noexcept : chain_(std::move(other.chain_)) {}
  ChainHold& operator=(ChainHold other) noexcept {
    std::swap(chain_, other.chain_);
    return *this;
  }
  ~ChainHold();

  /// The held chain, or null.
  const std::shared_ptr<Chain>& get() const noexcept { return chain_; }

 private:
  std::shared_ptr<Chain> chain_;
};

/// Drops one strong reference to `chain` that is not a ChainHold (a Deferred handle, a
/// step's reference to its waiter): if only ChainHolds remain, the chain is orphaned
/// first (see ChainHold). Chains freed as a result are freed iteratively.
void releaseChain(std::shared_ptr<Chain>& chain) noexcept;

/// What a chain currently holds.
enum class ResultKind : std::uint8_t {
  none,      ///< not fired yet
  value,     ///< a value (or, for void chains, success)
  failure,   ///< a Failure
  consumed,  ///< the result was handed on (to a waiting Deferred, a DeferredList, a co_await)
};

/// The shared state of one Deferred: its result, its steps, and Twisted's flags. Every
/// Deferred<T> handle made from it (by copy or by addCallback) points here.
///
/// Not thread-safe, like the Deferreds of Twisted: use a chain on one thread.
class Chain : public std::enable_shared_from_this<Chain> {
 public:
  /// Runs on cancel() before the chain has fired. Returns true when it has taken charge
  /// of the outcome, so no CancelledError follows even if the chain is still unfired.
  using Canceller = std::function<bool(Chain&)>;

  explicit Chain(const TypeTag& type) noexcept : inputType_(&type), tailType_(&type) {}
  ~Chain();
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;

  /// A new, unfired chain whose first callback receives a `type`.
  static std::shared_ptr<Chain> create(const TypeTag& type) { return std::make_shared<Chain>(type); }

  // The result.
  ResultKind kind() const noexcept { return kind_; }
  ValueBox& box() noexcept { return box_; }
  Failure& failure() noexcept { return *failure_; }
  template <class T, class... Args>
  void setValue(Args&&... args) {
    failure_.reset();
    box_.emplace<T>(std::forward<Args>(args)...);
    kind_ = ResultKind::value;
  }
  void setVoid() noexcept {
    failure_.reset();
    box_.reset();
    kind_ = ResultKind::value;
  }
  void setFailure(Failure failure) noexcept {
    box_.reset();
    failure_.emplace(std::move(failure));
    kind_ = ResultKind::failure;
  }
  void setConsumed() noexcept {
    box_.reset();
    failure_.reset();
    kind_ = ResultKind::consumed;
  }

  // Types, checked by the typed handles.
  const TypeTag& inputType() const noexcept { return *inputType_; }
  const TypeTag& tailType() const noexcept { return *tailType_; }
  void setTailType(const TypeTag& type) noexcept { tailType_ = &type; }

  // Firing. beginFire returns false when a fire after a canceller-less cancel() is to be
  // swallowed; it throws AlreadyCalledError on any other second fire. The caller sets the
  // result in between.
  bool beginFire();
  void finishFire();
  bool called() const noexcept { return called_; }

  /// Adds a step: runs it now if the chain has a result and nothing holds it back.
  void addStep(std::unique_ptr<Step> step);

  /// True when a step added now would run at once.
  bool readyNow() const noexcept { return called_ && pauses_ == 0 && !waiting_ && !running_ && next_ == steps_.size(); }

  /// Runs `step` (not stored in the chain) at once; only when readyNow().
  template <class S>
  void runNow(S& step) {
    running_ = true;
    std::shared_ptr<Chain> inner = step.S::run(*this);
    running_ = false;
    if (inner) adopt(std::move(inner));
    if (next_ < steps_.size()) runCallbacks();
  }

  /// Twisted's cancel(): on an unfired chain, its canceller or CancelledError; on one
  /// waiting on a Deferred a callback returned, that one's cancel(), found by walking
  /// down the waiting chains in a loop (constant stack however deeply they nest).
  void cancel();
  void setCanceller(Canceller canceller) { canceller_ = std::move(canceller); }
  void pause() noexcept { ++pauses_; }
  void unpause();
  int paused() const noexcept { return pauses_ + (waiting_ ? 1 : 0); }
  bool waiting() const noexcept { return waiting_; }

  /// How many ChainHolds refer to this chain.
  int holds() const noexcept { return holds_; }

  /// Adds a step that fires `target` with this chain's result (chainDeferred); this
  /// chain goes on with no result (Twisted's None).
  void addChained(std::shared_ptr<Chain> target);

 private:
  friend class ChainHold;
  friend void releaseChain(std::shared_ptr<Chain>& chain) noexcept;

  void runCallbacks();
  void adopt(std::shared_ptr<Chain> inner);
  void takeResultFrom(Chain& other) noexcept;
  void reportUnhandled() noexcept;
  void cancelUnfired();
  void markFired() noexcept;
  void orphan() noexcept;
  // Hands the result on to the target of a continuation or chained step; returns the
  // chain to run next, or null to go on with this one.
  std::shared_ptr<Chain> handOff(Step& step);

  const TypeTag* inputType_;
  const TypeTag* tailType_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::size_t next_ = 0;  // steps before this index have run
  ValueBox box_;
  std::optional<Failure> failure_;
  Canceller canceller_;
  ChainHold waitingOn_;  // the inner chain, which holds us through its continuation
  int pauses_ = 0;
  int holds_ = 0;  // ChainHolds referring to this chain
  ResultKind kind_ = ResultKind::none;
  bool called_ = false;
  bool running_ = false;
  bool waiting_ = false;
  bool suppressAlreadyCalled_ = false;
};

}  // namespace torsion::detail
