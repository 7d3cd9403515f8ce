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
// capture a handle), and so on through 100,000 nested Deferreds; a waiting chain also
// holds the chain it waits on. Doing that recursively would overflow the stack, so a
// chain's destructor hands what it owns to this per-thread list, and releaseChain hands
// it references to drop; only the outermost call empties the list, one item at a time.
struct Graveyard {
  ~Graveyard();
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<Chain::Canceller> cancellers;
  std::vector<ChainHold> holds;
  std::vector<std::shared_ptr<Chain>> refs;
  bool draining = false;
};

thread_local Graveyard graveyard;
thread_local bool graveyardGone = false;  // trivial, so still readable after ~Graveyard

Graveyard::~Graveyard() { graveyardGone = true; }

void drain(Graveyard& yard) noexcept {
  if (yard.draining) return;
  yard.draining = true;
  for (;;) {
    if (!yard.refs.empty()) {
      std::shared_ptr<Chain> ref = std::move(yard.refs.back());
      yard.refs.pop_back();
      releaseChain(ref);  // draining: orphans it if need be, then drops it here
    } else if (!yard.steps.empty()) {
      std::unique_ptr<Step> step = std::move(yard.steps.back());
      yard.steps.pop_back();
      step.reset();  // may bury more
    } else if (!yard.holds.empty()) {
      ChainHold hold = std::move(yard.holds.back());
      yard.holds.pop_back();
    } else if (!yard.cancellers.empty()) {
      Chain::Canceller dead = std::move(yard.cancellers.back());
      yard.cancellers.pop_back();
      dead = nullptr;
    } else {
      break;
    }
  }
  yard.draining = false;
}

void bury(std::vector<std::unique_ptr<Step>>& steps, std::size_t from, Chain::Canceller& canceller, ChainHold& hold) {
  if (from == steps.size() && !canceller && !hold.get()) return;
  // A Deferred destroyed during the thread's exit, after the list: release directly.
  if (graveyardGone) return;
  Graveyard& yard = graveyard;
  for (std::size_t i = from; i < steps.size(); ++i) {
    if (steps[i]) yard.steps.push_back(std::move(steps[i]));
  }
  if (canceller) yard.cancellers.push_back(std::move(canceller));
  if (hold.get()) yard.holds.push_back(std::move(hold));
  drain(yard);
}

// The step that hands a chain's result to the chain waiting on it (Twisted's _CONTINUE),
// or to the chain given to chainDeferred. A continuation holds its waiter weakly once
// its chain is orphaned (see ChainHold); a chained step always holds its target, whose
// callbacks must run when this chain fires.
struct LinkStep final : Step {
  LinkStep(StepKind stepKind, std::shared_ptr<Chain> to) noexcept : Step(stepKind), target(std::move(to)) {}
  LinkStep(const LinkStep&) = delete;
  LinkStep& operator=(const LinkStep&) = delete;
  ~LinkStep() override { releaseChain(target); }  // the target may be left to its waiters
  std::shared_ptr<Chain> run(Chain&) noexcept override { return nullptr; }
  void weaken() noexcept override {
    if (kind != StepKind::continuation || !target) return;
    weakTarget = target;
    releaseChain(target);
  }
  std::shared_ptr<Chain> target;
  std::weak_ptr<Chain> weakTarget;
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
  bury(steps_, next_, canceller_, waitingOn_);
}

ChainHold::ChainHold(std::shared_ptr<Chain> chain) noexcept : chain_(std::move(chain)) {
  if (chain_) ++chain_->holds_;
}

ChainHold::ChainHold(const ChainHold& other) noexcept : chain_(other.chain_) {
  if (chain_) ++chain_->holds_;
}

ChainHold::~ChainHold() {
  if (!chain_) return;
  --chain_->holds_;
  releaseChain(chain_);
}

void releaseChain(std::shared_ptr<Chain>& chain) noexcept {
  if (!chain) return;
  if (graveyardGone) {
    chain.reset();
    return;
  }
  Graveyard& yard = graveyard;
  if (!yard.draining) {
    yard.refs.push_back(std::move(chain));
    drain(yard);
    return;
  }
  // Only ChainHolds left besides this reference: nobody can fire the chain any more
  // but a waiter's cancel(), so it stops keeping its waiters alive.
  if (chain->holds_ != 0 && chain.use_count() == 1 + chain->holds_) chain->orphan();
  chain.reset();  // a chain freed here buries what it owns in the list being drained
}

void Chain::orphan() noexcept {
  for (std::size_t i = next_; i < steps_.size(); ++i) {
    if (steps_[i]) steps_[i]->weaken();
  }
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

void Chain::markFired() noexcept {
  called_ = true;
  // A fired chain never calls its canceller; drop it now, so what it holds (the inputs
  // of a DeferredList, a timer) is not kept alive by a chain that may live long.
  Canceller spent = std::move(canceller_);
  canceller_ = nullptr;
}

void Chain::finishFire() {
  markFired();
  runCallbacks();
}

void Chain::addStep(std::unique_ptr<Step> step) {
  // Most chains hold a handful of steps: start with room for several rather than
  // growing through 1, 2, 4, 8.
  if (steps_.capacity() == 0) steps_.reserve(8);
  steps_.push_back(std::move(step));
  if (called_) runCallbacks();
}

void Chain::addChained(std::shared_ptr<Chain> target) {
  addStep(std::make_unique<LinkStep>(StepKind::chained, std::move(target)));
}

void Chain::cancel() {
  // Twisted recurses into the Deferred a fired one waits on; walk down instead, so
  // cancelling the outermost of 100,000 nested Deferreds takes constant stack.
  Chain* current = this;
  std::shared_ptr<Chain> hold;  // the chains below `this` are held by their waiters
  while (current->called_ && current->waiting_) {
    std::shared_ptr<Chain> inner = current->waitingOn_.get();
    if (!inner) return;
    hold = std::move(inner);
    current = hold.get();
  }
  if (!current->called_) current->cancelUnfired();
}

void Chain::cancelUnfired() {
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
}

void Chain::unpause() {
  if (pauses_ == 0) throw std::logic_error("Deferred::unpause without a matching pause");
  --pauses_;
  if (pauses_ == 0 && called_) runCallbacks();
}

void Chain::takeResultFrom(Chain& other) noexcept {
  if (other.kind_ == ResultKind::consumed && &other.tailType() != &typeTag<void>) {
    // A value handed on once cannot be handed on again (Twisted would pass None, which
    // no typed callback can take): say so through the chain rather than stall it.
    try {
      throwResultTaken(other.tailType());
    } catch (...) {
      setFailure(Failure::current());
    }
    return;
  }
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
  waitingOn_ = ChainHold(inner);
  // The inner chain is not running callbacks over its own list right now unless it is in
  // a run further up the stack, which will reach this step in turn: append directly.
  inner->steps_.push_back(std::make_unique<LinkStep>(StepKind::continuation, shared_from_this()));
  releaseChain(inner);  // if nothing else holds it, only this chain's cancel() can fire it
}

std::shared_ptr<Chain> Chain::handOff(Step& step) {
  auto& link = static_cast<LinkStep&>(step);
  std::shared_ptr<Chain> target = link.target ? std::move(link.target) : link.weakTarget.lock();
  if (!target) return nullptr;  // the waiter is gone; the result stays (and is reported)
  if (step.kind == StepKind::continuation) {
    target->takeResultFrom(*this);
    target->waiting_ = false;
    target->waitingOn_ = ChainHold();
    return target;
  }
  // chainDeferred: as Twisted's `d.callback` added as a callback, a second fire fails
  // this chain, and a target cancelled without a canceller drops the result.
  try {
    if (!target->beginFire()) {
      setConsumed();
      return nullptr;
    }
  } catch (...) {
    setFailure(Failure::current());
    return nullptr;
  }
  target->takeResultFrom(*this);
  target->markFired();
  return target;
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
      if (step->kind != StepKind::pair) {
        std::shared_ptr<Chain> target = current->handOff(*step);
        step.reset();
        if (!target) continue;
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
