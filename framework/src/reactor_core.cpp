#include "reactor_core.hpp"

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <utility>

#include "reactor_signals.hpp"
#include "socket_ops.hpp"
#include "system_event_triggers.hpp"
#include "thread_pool.hpp"

namespace torsion::detail {

ReactorCore::ReactorCore(Reactor& owner, std::string_view backendName) : ReactorCore(owner, makeBackend(backendName)) {}

ReactorCore::ReactorCore(Reactor& owner, std::unique_ptr<Backend> backend)
    : owner_(owner),
      backend_(std::move(backend)),
      backendName_(backend_->name()),
      completes_(backend_->completesReceives()),
      completesSends_(backend_->completesSends()),
      readBuffer_(new char[kReadBufferSize]),
      timers_([this] { return seconds(); }) {
  batch_.reserve(256);
  backend_->bind(*this);
  setInterest(threadCalls_, kReadable);
}

ReactorCore::~ReactorCore() {
  threadPool_.reset();  // finishes queued jobs first: they may callFromThread into us
  // A factory may reconnect from clientConnectionLost while we close: a few rounds, then
  // whatever is left is let go without telling anyone (and logged).
  for (int round = 0; handles_ != nullptr && round < 4; ++round) {
    closeAllHandles();
    runSoonCalls();
  }
  while (handles_ != nullptr) {
    log::warn("a handle was still reopening while its reactor was destroyed; dropping it");
    release(*handles_);
  }
  soon_.clear();
  releaseStep();
  if (signals_ != SignalCatching::none) giveBackSignals();
  forget(threadCalls_);
}

void ReactorCore::closeAllHandles() {
  std::vector<std::shared_ptr<ReactorHandle>> open;
  for (ReactorHandle* handle = handles_; handle != nullptr; handle = handle->next_) open.push_back(handle->self_);
  for (auto& handle : open) {
    try {
      handle->closeForShutdown();
    } catch (...) {
      logUnhandled("shutdown", std::current_exception());
    }
  }
}

double ReactorCore::seconds() const {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------- descriptors

void ReactorCore::setInterest(Selectable& selectable, std::uint8_t interest) {
  const int fd = selectable.fileno();
  if (fd < 0) throw std::invalid_argument("cannot watch a negative descriptor");
  const auto index = static_cast<std::size_t>(fd);
  if (index >= watchers_.size()) {
    const std::size_t size = std::max(index + 1, watchers_.size() + watchers_.size() / 2);
    watchers_.resize(size, nullptr);
    interests_.resize(size, 0);
  }
  Selectable*& watcher = watchers_[index];
  if (watcher != nullptr && watcher != &selectable) {
    throw std::logic_error("descriptor " + std::to_string(fd) + " is already watched by another selectable");
  }
  const std::uint8_t old = watcher ? interests_[index] : 0;
  if (old == interest) return;
  if (old == 0) {
    backend_->add(fd, interest);  // may throw BackendLimitError: leave the slot untouched
  } else if (interest == 0) {
    backend_->remove(fd, old);
  } else {
    backend_->modify(fd, old, interest);
  }
  watcher = interest ? &selectable : nullptr;
  interests_[index] = interest;
  if (interest == 0) dropCarriedError(fd);  // a reused number must not inherit it
}

std::uint8_t ReactorCore::interest(int fd) const noexcept {
  const auto index = static_cast<std::size_t>(fd);
  return fd >= 0 && index < interests_.size() ? interests_[index] : 0;
}

int ReactorCore::takeCarriedError(int fd) {
  for (auto it = carriedErrors_.begin(); it != carriedErrors_.end(); ++it) {
    if (it->first != fd) continue;
    const int error = it->second;
    carriedErrors_.erase(it);
    return error;
  }
  return 0;
}

int ReactorCore::takeSocketError(int fd) {
  const int carried = takeCarriedError(fd);
  return carried != 0 ? carried : pendingSocketError(fd);
}

void ReactorCore::dropCarriedError(int fd) {
  if (carriedErrors_.empty()) return;
  std::erase_if(carriedErrors_, [fd](const std::pair<int, int>& entry) { return entry.first == fd; });
}

void ReactorCore::carryError(int fd, int error) {
  dropCarriedError(fd);
  carriedErrors_.emplace_back(fd, error);
}

namespace {

// The entry of `fd` in a per-descriptor table of completion receivers, grown to hold it.
CompletionReceiver*& entryFor(std::vector<CompletionReceiver*>& table, int fd) {
  const auto index = static_cast<std::size_t>(fd);
  if (index >= table.size()) table.resize(std::max(index + 1, table.size() + table.size() / 2));
  return table[index];
}

// Clears the entry of `fd` and returns whether there was one.
bool takeEntry(std::vector<CompletionReceiver*>& table, int fd) {
  const auto index = static_cast<std::size_t>(fd);
  if (fd < 0 || index >= table.size() || table[index] == nullptr) return false;
  table[index] = nullptr;
  return true;
}

}  // namespace

void ReactorCore::armReceive(int fd, CompletionReceiver& receiver) {
  entryFor(receivers_, fd) = &receiver;
  backend_->armReceive(fd);
}

void ReactorCore::dropReceive(int fd) {
  if (!takeEntry(receivers_, fd)) return;
  backend_->dropReceive(fd);
  dropBatched(fd, kReceived);
}

void ReactorCore::submitSend(int fd, std::size_t length, CompletionReceiver& sender) {
  entryFor(senders_, fd) = &sender;
  backend_->submitSend(fd, length);
}

void ReactorCore::dropSend(int fd) {
  if (!takeEntry(senders_, fd)) return;
  backend_->dropSend(fd);
  dropBatched(fd, kSent);
}

void ReactorCore::dropBatched(int fd, std::uint8_t kind) {
  if (!dispatching_) return;
  for (std::size_t i = batchPosition_ + 1; i < batch_.size(); ++i) {
    if (batch_[i].fd == fd && batch_[i].events == kind) batch_[i].fd = -1;
  }
}

void ReactorCore::forget(Selectable& selectable) {
  const int fd = selectable.fileno();
  if (fd < 0) return;
  const auto index = static_cast<std::size_t>(fd);
  if (index < watchers_.size() && watchers_[index] == &selectable) setInterest(selectable, 0);
  if (dispatching_) {
    for (std::size_t i = batchPosition_ + 1; i < batch_.size(); ++i) {
      if (batch_[i].fd == fd) batch_[i].fd = -1;
    }
  }
}

// ---------------------------------------------------------------- lifetime

void ReactorCore::adopt(std::shared_ptr<ReactorHandle> handle) {
  if (handle->self_) return;
  ReactorHandle* raw = handle.get();
  raw->self_ = std::move(handle);
  raw->previous_ = nullptr;
  raw->next_ = handles_;
  if (handles_) handles_->previous_ = raw;
  handles_ = raw;
}

void ReactorCore::release(ReactorHandle& handle) {
  if (!handle.self_) return;
  if (handle.previous_)
    handle.previous_->next_ = handle.next_;
  else
    handles_ = handle.next_;
  if (handle.next_) handle.next_->previous_ = handle.previous_;
  handle.previous_ = handle.next_ = nullptr;
  released_.push_back(std::move(handle.self_));
}

void ReactorCore::disposeAfterPass(std::shared_ptr<void> object) {
  if (object) released_.push_back(std::move(object));
}

void ReactorCore::releaseStep() {
  // A destructor run here may release more (a protocol closing a port it owns): drop
  // those too, but never while iterating the vector they are added to.
  // Both vectors keep their capacity across passes, so releasing a connection does not
  // allocate once the loop has warmed up.
  while (!released_.empty()) {
    dropping_.swap(released_);
    dropping_.clear();
  }
}

void ReactorCore::abortNotInLoopThread(const char* what) noexcept {
  log::error("{} called from a thread that is not the reactor's; use callFromThread", what);
  std::abort();
}

void ReactorCore::callSoon(std::function<void()> fn) {
  soon_.push_back(std::move(fn));
  if (soon_.size() == 1) backend_->wakeUp();  // a driven backend may be between passes
}

void ReactorCore::runSoonCalls() {
  // Calls made by these calls run in the same loop (bounded by what they schedule),
  // so a close requested during a close still completes in this pass.
  for (int rounds = 0; !soon_.empty() && rounds < 64; ++rounds) {
    soonRunning_.swap(soon_);
    for (auto& fn : soonRunning_) {
      try {
        fn();
      } catch (...) {
        logUnhandled("a deferred transport call", std::current_exception());
      }
    }
    soonRunning_.clear();
  }
}

// ---------------------------------------------------------------- the loop

int ReactorCore::computeTimeoutMs(double timeoutSeconds) {
  if (stopping_ || !soon_.empty() || threadCalls_.pending() || (signals_ != SignalCatching::none && signalPending())) {
    return 0;
  }
  double wait = timeoutSeconds < 0 ? std::numeric_limits<double>::infinity() : timeoutSeconds;
  if (timers_.size() != 0) {
    const double now = seconds();
    if (auto next = timers_.nextTime(now)) wait = std::min(wait, std::max(0.0, *next - now));
  }
  if (std::isinf(wait)) return -1;
  // Round up: waking a little late is harmless, waking early would spin until the timer.
  return static_cast<int>(std::min(std::ceil(wait * 1000.0), 24.0 * 3600 * 1000));
}

void ReactorCore::iterate(double timeoutSeconds) {
  loopThread_ = std::this_thread::get_id();
  // Built once: a pass that has nothing to do should cost next to nothing.
  static const std::function<void(std::exception_ptr)> threadCallError = [](std::exception_ptr e) {
    logUnhandled("callFromThread", std::move(e));
  };
  static const std::function<void(std::exception_ptr)> timerError = [](std::exception_ptr e) {
    logUnhandled("callLater", std::move(e));
  };
  if (threadCalls_.pending()) threadCalls_.runQueued(threadCallError);
  if (timers_.size() != 0) timers_.runDue(seconds(), timerError);
  runSoonCalls();
  checkSignal();

  batch_.clear();
  backend_->wait(computeTimeoutMs(timeoutSeconds), batch_);
  dispatch();
  runSoonCalls();
  checkSignal();
  releaseStep();  // the one place connections and protocols are destroyed: never inside a dispatch
}

void ReactorCore::dispatch() {
  dispatching_ = true;
  for (batchPosition_ = 0; batchPosition_ < batch_.size(); ++batchPosition_) {
    const ReadyEvent event = batch_[batchPosition_];
    if (event.events == kReceived) {
      dispatchReceive(event);
      continue;
    }
    if (event.events == kSent) {
      dispatchSend(event);
      continue;
    }
    if (event.fd < 0) continue;  // its descriptor was closed earlier in this batch
    const auto index = static_cast<std::size_t>(event.fd);
    if (index >= watchers_.size()) continue;
    Selectable* selectable = watchers_[index];
    if (selectable == nullptr) continue;
    if (event.error != 0) carryError(event.fd, event.error);  // for takeSocketError
    if ((event.events & kReadable) && (interests_[index] & kReadable)) dispatchOne(*selectable, true);
    // The read handler may have closed the descriptor, or another took its number.
    if (batch_[batchPosition_].fd < 0 || watchers_[index] != selectable) continue;
    if ((event.events & kWritable) && (interests_[index] & kWritable)) dispatchOne(*selectable, false);
  }
  dispatching_ = false;
}

void ReactorCore::dispatchReceive(const ReadyEvent& event) {
  // The buffer goes back to the backend whatever happens here: dispatched, dropped
  // (its socket closed earlier in this batch), or thrown through.
  struct Recycle {
    Backend& backend;
    const ReadyEvent& event;
    ~Recycle() {
      if (event.receive & kReceiveHoldsBuffer) backend.recycle(event.buffer);
    }
  } recycle{*backend_, event};
  const auto index = static_cast<std::size_t>(event.fd);
  if (event.fd < 0 || index >= receivers_.size() || receivers_[index] == nullptr) return;
  CompletionReceiver* receiver = receivers_[index];
  const bool continues = (event.receive & kReceiveContinues) != 0;
  if (!continues) receivers_[index] = nullptr;  // the receive is over: the receiver may arm again
  Bytes data;
  if (event.result > 0 && (event.receive & kReceiveHoldsBuffer)) {
    data = Bytes(backend_->receivedData(event.buffer), static_cast<std::size_t>(event.result));
  }
  try {
    receiver->receiveCompleted({event.result, data, continues});
  } catch (...) {
    logUnhandled("receiveCompleted", std::current_exception());
  }
}

void ReactorCore::dispatchSend(const ReadyEvent& event) {
  const auto index = static_cast<std::size_t>(event.fd);
  if (event.fd < 0 || index >= senders_.size() || senders_[index] == nullptr) return;
  CompletionReceiver* sender = std::exchange(senders_[index], nullptr);  // it may send again
  try {
    sender->sendCompleted(event.result);
  } catch (...) {
    logUnhandled("sendCompleted", std::current_exception());
  }
}

void ReactorCore::dispatchOne(Selectable& selectable, bool read) {
  try {
    if (read)
      selectable.doRead();
    else
      selectable.doWrite();
  } catch (...) {
    auto failure = Failure::current();
    logUnhandled(read ? "doRead" : "doWrite", failure.exception());
    forget(selectable);
    try {
      selectable.connectionLost(failure);
    } catch (...) {
      logUnhandled("connectionLost", std::current_exception());
    }
  }
}

void ReactorCore::run(bool installSignalHandlers) {
  if (running_) throw std::logic_error("Reactor::run called while the reactor is already running");
  if (backend_->runLoop(installSignalHandlers)) return;  // an outside loop runs the passes
  startRunning(installSignalHandlers);
  while (!stopping_) iterate(-1);
  finishRunning();
}

void ReactorCore::startRunning(bool installSignalHandlers) {
  loopThread_ = std::this_thread::get_id();
  running_ = true;
  stopping_ = false;
  if (installSignalHandlers) {
    // Caught since a port listened, or from now on: a signal already pending stops us
    // in the first pass.
    if (signals_ == SignalCatching::early || claimSignals(threadCalls_)) signals_ = SignalCatching::running;
  } else if (signals_ == SignalCatching::early) {
    giveBackSignals();  // run(false): the program handles its signals itself
  }
  fireSystemEvent("startup");
}

void ReactorCore::finishRunning() {
  fireSystemEvent("shutdown");
  // Let what the shutdown triggers started (closes, thread calls) complete.
  iterate(0);
  if (signals_ != SignalCatching::none) releaseSignals();
  signals_ = SignalCatching::none;
  running_ = false;
  stopping_ = false;
}

void ReactorCore::wakeBackendOnEarlierTimers() {
  timers_.onSoonestChanged([this] { backend_->wakeUp(); });
}

void ReactorCore::stop() {
  if (!running_ || stopping_) throw ReactorNotRunning();
  stopping_ = true;
  backend_->wakeUp();
}

void ReactorCore::checkSignal() {
  if (signals_ == SignalCatching::none || !signalPending()) return;
  if (!running_) {
    // Caught early, but the program drives the loop itself with iterate() rather than
    // run(): let the signal do what it would have done without us.
    giveBackSignals();
    return;
  }
  const int signal = takePendingSignal();
  log::info("Received {}, shutting down.", signal == SIGINT ? "SIGINT" : "SIGTERM");
  if (!stopping_) stopping_ = true;
}

void ReactorCore::catchStopSignalsEarly() {
  if (signals_ == SignalCatching::none && !running_ && claimSignals(threadCalls_)) signals_ = SignalCatching::early;
}

void ReactorCore::giveBackSignals() {
  releaseSignals();
  signals_ = SignalCatching::none;
  if (const int signal = takePendingSignal()) std::raise(signal);
}

// ---------------------------------------------------------------- threads and triggers

void ReactorCore::callInThread(std::function<void()> fn) {
  if (!threadPool_) threadPool_ = std::make_unique<ThreadPool>(maxPoolThreads_);
  threadPool_->submit(std::move(fn));
}

void ReactorCore::suggestThreadPoolSize(std::size_t maxThreads) {
  if (maxThreads == 0) throw std::invalid_argument("suggestThreadPoolSize: need at least one thread");
  maxPoolThreads_ = maxThreads;
  if (threadPool_) threadPool_->setMaxThreads(maxThreads);
}

Reactor::TriggerId ReactorCore::addTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn) {
  return SystemEventTriggers(triggers_, nextTriggerId_).add(phase, eventType, std::move(fn));
}

void ReactorCore::removeTrigger(Reactor::TriggerId id) { SystemEventTriggers(triggers_, nextTriggerId_).remove(id); }

void ReactorCore::fireSystemEvent(std::string_view eventType) {
  static const std::function<void(std::exception_ptr)> triggerError = [](std::exception_ptr e) {
    logUnhandled("a system event trigger", std::move(e));
  };
  SystemEventTriggers(triggers_, nextTriggerId_).fire(eventType, triggerError);
}

void ReactorCore::callWhenRunning(std::function<void()> fn) {
  if (running_) {
    fn();
  } else {
    addTrigger(EventPhase::during, "startup", std::move(fn));
  }
}

}  // namespace torsion::detail
