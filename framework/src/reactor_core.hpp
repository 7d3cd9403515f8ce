// Internal. ReactorCore: the loop behind torsion::Reactor, and what transports use of it.
#pragma once

#include <torsion/failure.hpp>
#include <torsion/reactor.hpp>
#include <torsion/selectable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/backend.hpp"
#include "chunk_pool.hpp"
#include "log_unhandled.hpp"
#include "thread_calls.hpp"
#include "timer_queue.hpp"

namespace torsion::detail {

class ReactorCore;

/// Something the reactor keeps alive while it is active (a connection, a listening port,
/// a connector) and closes when the reactor is destroyed. Handles form an intrusive list,
/// so keeping one costs two pointers and no allocation.
class ReactorHandle {
 public:
  virtual ~ReactorHandle() = default;
  /// The reactor is being destroyed: close now, telling user code as usual.
  virtual void closeForShutdown() = 0;

 protected:
  /// The reactor's reference to this handle while adopted (null otherwise): lets a
  /// handle hand out shared references to itself without enable_shared_from_this.
  const std::shared_ptr<ReactorHandle>& adoptedSelf() const noexcept { return self_; }

 private:
  friend class ReactorCore;
  std::shared_ptr<ReactorHandle> self_;  // set while adopted
  ReactorHandle* previous_ = nullptr;
  ReactorHandle* next_ = nullptr;
};

/// One receive the backend completed for a stream socket (Backend::completesReceives).
struct ReceiveCompletion {
  /// Bytes received (> 0), 0 for the end of the stream, or a negative errno.
  int result;
  /// The received bytes (result > 0); valid only during the call.
  Bytes data;
  /// The receive stays armed; false on its last completion.
  bool continues;
};

/// A stream socket that takes its input from the completion path: told of each receive
/// the backend completed for it, in the dispatch of the pass that collected it.
class CompletionReceiver {
 public:
  virtual ~CompletionReceiver() = default;
  virtual void receiveCompleted(const ReceiveCompletion& completion) = 0;
  /// The send submitted with ReactorCore::submitSend is over: `result` is the bytes sent
  /// (every byte of it) or a negative errno.
  virtual void sendCompleted(int result) = 0;
};

/// The loop. A backend sees it only as a LoopDriver (see Backend::bind).
class ReactorCore final : public LoopDriver {
 public:
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

  ReactorCore(Reactor& owner, std::string_view backendName);
  ReactorCore(Reactor& owner, std::unique_ptr<Backend> backend);
  ~ReactorCore();
  ReactorCore(const ReactorCore&) = delete;
  ReactorCore& operator=(const ReactorCore&) = delete;

  Reactor& owner() noexcept { return owner_; }
  const std::string& backendName() const noexcept { return backendName_; }

  // ---- the loop ----
  void run(bool installSignalHandlers);
  void stop() override;
  void iterate(double timeoutSeconds);
  bool running() const noexcept override { return running_ && !stopping_; }
  double seconds() const;

  // ---- LoopDriver: for a backend that an outside loop drives (see Backend::bind) ----
  void startRunning(bool installSignalHandlers) override;
  void runPass() override { iterate(0); }
  void finishRunning() override;
  bool stopRequested() const noexcept override { return stopping_; }
  int passTimeoutMs() override { return computeTimeoutMs(-1); }
  void wakeBackendOnEarlierTimers() override;

  // ---- descriptors ----
  /// Sets what `selectable` is watched for; the backend hears only of real changes.
  void setInterest(Selectable& selectable, std::uint8_t interest);
  std::uint8_t interest(int fd) const noexcept;
  /// Stops watching, and drops events already collected for this descriptor in the
  /// current batch, so a reused descriptor number never gets its predecessor's event.
  void forget(Selectable& selectable);
  /// The socket error that the backend's wait consumed for the watched descriptor `fd`
  /// (libkqueue reads SO_ERROR to report EV_EOF), and forgets it; 0 if none. Where recv
  /// or send would have returned a pending error, this is the one they can no longer see.
  int takeCarriedError(int fd);
  /// takeCarriedError, else SO_ERROR (cleared by reading it). Transports ask this, never
  /// SO_ERROR directly.
  int takeSocketError(int fd);

  // ---- the completion path (a backend that completes receives) ----
  /// Whether the backend receives for stream sockets (armReceive and the rest).
  bool completesReceives() const noexcept { return completes_; }
  /// Starts receiving on `fd` for `receiver`, until its last completion (one without
  /// `continues`) or dropReceive.
  void armReceive(int fd, CompletionReceiver& receiver);
  /// Asks the backend to stop receiving on `fd`; completions already on their way still
  /// reach the receiver, the last one without `continues`.
  void cancelReceive(int fd) { backend_->cancelReceive(fd); }
  /// Stops receiving on `fd` for good: call before closing it. Nothing more reaches its
  /// receiver, not even completions already collected in this pass.
  void dropReceive(int fd);
  /// Whether the backend also sends for stream sockets (sendBuffer and the rest).
  bool completesSends() const noexcept { return completesSends_; }
  /// A free send buffer to fill before submitSend; empty if none is free now.
  std::span<char> sendBuffer() { return backend_->sendBuffer(); }
  /// Sends the first `length` bytes of the buffer sendBuffer gave, on `fd`; `sender` is
  /// told when all are sent or the send failed. One send in flight per descriptor.
  void submitSend(int fd, std::size_t length, CompletionReceiver& sender);
  /// Gives up the send in flight on `fd`, if any: call before closing it. Its
  /// completion reaches nobody, even if already collected in this pass.
  void dropSend(int fd);

  /// The one reusable read buffer (no allocation per read).
  char* readBuffer() noexcept { return readBuffer_.get(); }
  /// Spare write-queue chunks shared by this reactor's connections.
  ChunkPool& chunkPool() noexcept { return chunkPool_; }

  // ---- lifetime ----
  /// Keeps `handle` alive until release.
  void adopt(std::shared_ptr<ReactorHandle> handle);
  /// Lets go of `handle` at the end of this pass, never during a dispatch.
  void release(ReactorHandle& handle);
  /// Drops `object` (a protocol a transport let go of) at the release step at the end of
  /// this pass, so its destructor never runs inside a dispatch or a transport's method.
  void disposeAfterPass(std::shared_ptr<void> object);
  bool adopted(const ReactorHandle& handle) const noexcept { return handle.self_ != nullptr; }

  /// Runs `fn` later in this same pass of the loop (after the current dispatch), or in
  /// the next pass if called between passes. How transports avoid calling user code
  /// back from inside a call user code made.
  void callSoon(std::function<void()> fn);

  // ---- timers, threads, triggers ----
  TimerQueue& timers() noexcept { return timers_; }
  ThreadCalls& threadCalls() noexcept { return threadCalls_; }
  void callInThread(std::function<void()> fn);
  void suggestThreadPoolSize(std::size_t maxThreads);

  Reactor::TriggerId addTrigger(EventPhase phase, std::string_view eventType, std::function<void()> fn);
  void removeTrigger(Reactor::TriggerId id);
  void fireSystemEvent(std::string_view eventType);
  void callWhenRunning(std::function<void()> fn);

  // ---- the loop's thread ----
  /// In a debug build, aborts with a message naming `what` unless called on the loop's
  /// thread: the thread that last ran or iterated the reactor, else the one that made it.
  /// Costs nothing when NDEBUG is defined.
  void assertInLoopThread(const char* what) const noexcept {
#ifndef NDEBUG
    if (std::this_thread::get_id() != loopThread_) abortNotInLoopThread(what);
#else
    (void)what;
#endif
  }

  // ---- SIGINT / SIGTERM ----
  /// A port started listening: catch SIGINT and SIGTERM from now on (if no other reactor
  /// does), so one arriving before run() stops run() at once instead of killing the
  /// process with a Unix socket file left behind.
  void catchStopSignalsEarly();

  /// Logs an exception that escaped user code in `where` (see log_unhandled.hpp).
  static void logUnhandled(const char* where, std::exception_ptr exception) {
    detail::logUnhandled(where, std::move(exception));
  }

 private:
  void dispatch();
  void carryError(int fd, int error);
  void dropCarriedError(int fd);
  void dispatchOne(Selectable& selectable, bool read);
  void dispatchReceive(const ReadyEvent& event);
  void dispatchSend(const ReadyEvent& event);
  /// Drops the events of `kind` collected for `fd` that this pass has not dispatched yet.
  void dropBatched(int fd, std::uint8_t kind);
  void runSoonCalls();
  int computeTimeoutMs(double timeoutSeconds);
  void closeAllHandles();
  void checkSignal();
  /// Gives SIGINT/SIGTERM back to their previous handlers; a signal caught but never
  /// acted on is raised again, as if it had never been caught.
  void giveBackSignals();
  void releaseStep();
  [[noreturn]] static void abortNotInLoopThread(const char* what) noexcept;

  Reactor& owner_;
  std::unique_ptr<Backend> backend_;
  std::string backendName_;
  // Indexed by descriptor: who watches it and for what. Two arrays, not one of pairs,
  // so a descriptor costs 9 bytes rather than 16 (padding).
  std::vector<Selectable*> watchers_;
  std::vector<std::uint8_t> interests_;
  std::vector<CompletionReceiver*> receivers_;  // indexed by descriptor: armed receives
  std::vector<CompletionReceiver*> senders_;    // indexed by descriptor: sends in flight
  const bool completes_;                        // the backend's completesReceives, fixed
  const bool completesSends_;                   // the backend's completesSends, fixed
  std::vector<ReadyEvent> batch_;
  // (descriptor, error) for socket errors a wait consumed that no transport has taken
  // yet. Rare, so a short list; an entry lives only while its descriptor is watched.
  std::vector<std::pair<int, int>> carriedErrors_;
  std::size_t batchPosition_ = 0;
  bool dispatching_ = false;
  std::unique_ptr<char[]> readBuffer_;
  ChunkPool chunkPool_;  // before the handles: their queues return chunks to it

  ReactorHandle* handles_ = nullptr;             // head of the intrusive list
  std::vector<std::shared_ptr<void>> released_;  // handles and protocols, dropped after the pass
  std::vector<std::shared_ptr<void>> dropping_;  // what releaseStep is destroying now
  std::vector<std::function<void()>> soon_;
  std::vector<std::function<void()>> soonRunning_;

  TimerQueue timers_;
  ThreadCalls threadCalls_;
  std::unique_ptr<class ThreadPool> threadPool_;
  std::size_t maxPoolThreads_ = 10;

  std::vector<SystemEventTrigger> triggers_;
  Reactor::TriggerId nextTriggerId_ = 1;

  /// Who handles SIGINT/SIGTERM for this reactor.
  enum class SignalCatching : std::uint8_t {
    none,     ///< the process's own handlers (or another reactor's)
    early,    ///< ours, since a port listened; acted on once run() starts
    running,  ///< ours, for run(true)
  };

  bool running_ = false;
  bool stopping_ = false;
  SignalCatching signals_ = SignalCatching::none;
  std::thread::id loopThread_ = std::this_thread::get_id();
};

}  // namespace torsion::detail
