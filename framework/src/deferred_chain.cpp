#include <torsion/detail/deferred_chain.hpp>
#include <torsion/detail/deferred_steps.hpp>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

#include "demangle.hpp"

namespace torsion::detail {

namespace {

// Destroying a chain destroys its steps, whose closures may hold the last reference to
// other chains (a continuation holds the Deferred waiting on this one, a callback may
// capture a handle), and so on through 100,000 nested Deferreds. Doing that recursively
// would overflow the stack, so a chain's destructor hands its steps to this per-thread
// list and only the outermost destructor empties it, one step at a time.
struct Graveyard {
  ~Graveyard();
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<Chain::Canceller> cancellers;
  bool draining = false;
};

thread_local Graveyard graveyard;
thread_local bool graveyardGone = false;  // trivial, so still readable after ~Graveyard

Graveyard::~Graveyard() { graveyardGone = true; }

void bury(std::vector<std::unique_ptr<Step>>& steps, std::size_t from, Chain::Canceller& canceller) {
  // A Deferred destroyed during the thread's exit, after the list: release directly.
  if (graveyardGone) return;
  Graveyard& yard = graveyard;
  for (std::size_t i = from; i < steps.size(); ++i) {
    if (steps[i]) yard.steps.push_back(std::move(steps[i]));
  }
  if (canceller) yard.cancellers.push_back(std::move(canceller));
  if (yard.draining) return;
  yard.draining = true;
  while (!yard.steps.empty() || !yard.cancellers.empty()) {
    if (!yard.steps.empty()) {
      std::unique_ptr<Step> step = std::move(yard.steps.back());
      yard.steps.pop_back();
      step.reset();  // may bury more
    } else {
      Chain::Canceller dead = std::move(yard.cancellers.back());
      yard.cancellers.pop_back();
      dead = nullptr;
    }
  }
  yard.draining = false;
}

// The step that hands a chain's result to the chain waiting on it (Twisted's _CONTINUE).
struct ContinuationStep final : Step {
  explicit ContinuationStep(std::shared_ptr<Chain> waiter) noexcept : Step(true), target(std::move(waiter)) {}
  std::shared_ptr<Chain> run(Chain&) noexcept override { return nullptr; }
  std::shared_ptr<Chain> target;
};

}  // namespace

std::string typeName(const TypeTag& tag) { return demangle(tag.info().name()); }

void throwEmptyDeferred(const char* operation) {
  throw std::logic_error(std::string("torsion::Deferred: ") + operation + " on an empty (moved-from) Deferred");
}

void throwStaleHandle(const char* operation, const TypeTag& handle, const TypeTag& chain) {
  throw std::logic_error("torsion::Deferred<" + typeName(handle) + ">: " + operation + ": the chain now carries " +
                         typeName(chain) +
                         " (callbacks were added through another handle); use the Deferred the last addCallback "
                         "returned");
}

void throwWrongInput(const TypeTag& handle, const TypeTag& input) {
  throw std::logic_error("torsion::Deferred<" + typeName(handle) + ">::callback: this chain began as a Deferred<" +
                         typeName(input) + ">; fire it through that handle");
}

void throwResultTaken(const TypeTag& type) {
  throw std::logic_error("torsion::Deferred<" + typeName(type) +
                         ">: its result was already handed on (to a Deferred waiting on it, a DeferredList or a "
                         "co_await)");
}

std::string timeoutMessage(double seconds) { return fmt::format("Deferred timed out after {} seconds", seconds); }

void ValueBox::throwMismatch(const TypeTag& wanted) const {
  throw std::logic_error("torsion internal error: Deferred result is " +
                         (ops_ ? typeName(*ops_->type) : std::string("empty")) + ", expected " + typeName(wanted));
}

Chain::~Chain() {
  reportUnhandled();
  if (next_ < steps_.size() || canceller_) bury(steps_, next_, canceller_);
}

void Chain::reportUnhandled() noexcept {
  if (kind_ != ResultKind::failure || !failure_) return;
  try {
    log::error("Unhandled error in Deferred: {}", failure_->toString());
  } catch (...) {
    // Nothing sensible to do when logging itself fails in a destructor.
  }
}

bool Chain::beginFire() {
  if (called_) {
    if (suppressAlreadyCalled_) {
      suppressAlreadyCalled_ = false;
      return false;
    }
    throw AlreadyCalledError();
  }
  return true;
}

void Chain::finishFire() {
  called_ = true;
  // A fired chain never calls its canceller; drop it now, so what it holds (the inputs
  // of a DeferredList, a timer) is not kept alive by a chain that may live long.
  Canceller spent = std::move(canceller_);
  canceller_ = nullptr;
  runCallbacks();
}

void Chain::addStep(std::unique_ptr<Step> step) {
  // Most chains hold a handful of steps: start with room for several rather than
  // growing through 1, 2, 4, 8.
  if (steps_.capacity() == 0) steps_.reserve(8);
  steps_.push_back(std::move(step));
  if (called_) runCallbacks();
}

void Chain::cancel() {
  if (!called_) {
    bool handled = false;
    if (canceller_) {
      // Called from a local: it may fire the chain, which drops the member.
      Canceller canceller = std::move(canceller_);
      canceller_ = nullptr;
      handled = canceller(*this);
      if (!called_ && !canceller_) canceller_ = std::move(canceller);  // may be cancelled again
    } else {
      // Nobody can stop the operation, so its eventual result must be swallowed once.
      suppressAlreadyCalled_ = true;
    }
    if (!called_ && !handled) {
      setFailure(Failure(CancelledError()));
      finishFire();
    }
  } else if (waiting_) {
    if (std::shared_ptr<Chain> inner = waitingOn_.lock()) inner->cancel();
  }
}

void Chain::unpause() {
  if (pauses_ == 0) throw std::logic_error("Deferred::unpause without a matching pause");
  --pauses_;
  if (pauses_ == 0 && called_) runCallbacks();
}

void Chain::takeResultFrom(Chain& other) noexcept {
  kind_ = other.kind_;
  box_ = std::move(other.box_);
  failure_ = std::move(other.failure_);
  other.setConsumed();
}

void Chain::adopt(std::shared_ptr<Chain> inner) {
  if (inner.get() == this) {
    setFailure(Failure(std::logic_error("a callback returned the Deferred it was added to")));
    return;
  }
  if (inner->readyNow()) {
    takeResultFrom(*inner);
    return;
  }
  // The callback has used up the previous result; until the inner chain fires there is
  // none (and no failure left to report if this chain is dropped while it waits).
  setConsumed();
  waiting_ = true;
  waitingOn_ = inner;
  // The inner chain is not running callbacks over its own list right now unless it is in
  // a run further up the stack, which will reach this step in turn: append directly.
  inner->steps_.push_back(std::make_unique<ContinuationStep>(shared_from_this()));
}

// Twisted's _runCallbacks: the chains that wait on one another are walked with an
// explicit stack instead of recursion, so 100,000 nested Deferreds fire in constant
// stack space. The caller holds a reference to `this`; the stack holds the others.
void Chain::runCallbacks() {
  if (running_) return;  // a callback of ours fired us again; the running loop goes on
  struct Frame {
    Chain* chain;
    std::shared_ptr<Chain> hold;
  };
  std::vector<Frame> below;
  Chain* current = this;
  std::shared_ptr<Chain> currentHold;
  for (;;) {
    bool handedOff = false;
    while (current->pauses_ == 0 && !current->waiting_ && current->next_ < current->steps_.size()) {
      std::unique_ptr<Step> step = std::move(current->steps_[current->next_++]);
      if (step->isContinuation) {
        std::shared_ptr<Chain> target = std::move(static_cast<ContinuationStep&>(*step).target);
        step.reset();
        target->takeResultFrom(*current);
        target->waiting_ = false;
        target->waitingOn_.reset();
        below.push_back({current, std::move(currentHold)});
        current = target.get();
        currentHold = std::move(target);
        handedOff = true;
        break;
      }
      current->running_ = true;
      std::shared_ptr<Chain> inner = step->run(*current);
      current->running_ = false;
      step.reset();  // release the callback's captures before the next one runs
      if (inner) current->adopt(std::move(inner));
    }
    if (handedOff) continue;
    if (current->next_ == current->steps_.size()) {
      current->steps_.clear();
      current->next_ = 0;
    }
    if (below.empty()) break;
    current = below.back().chain;
    currentHold = std::move(below.back().hold);  // releases the chain just finished
    below.pop_back();
  }
}

}  // namespace torsion::detail
