// Internal. TcpConnection: a connected stream socket; the Transport a Protocol writes to.
// Also used for Unix stream sockets (same code, no TCP options).
#pragma once

#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>
#include <torsion/selectable.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "protocol_access.hpp"
#include "reactor_core.hpp"
#include "socket_ops.hpp"
#include "write_queue.hpp"

namespace torsion::detail {

/// Told when a client connection ends, so the connector can tell its factory.
class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  virtual void connectionEnded(const Failure& reason) = 0;
};

/// Asks `factory` for the protocol of a new connection from `peer`. An exception from
/// buildProtocol is logged and counts as a refusal, like nullptr: the caller closes.
std::shared_ptr<Protocol> buildProtocolOrRefuse(Factory& factory, const Address& peer);

/// Where a connection is in its life. It only ever moves down this list, so a state
/// that was left is never re-entered (TcpConnection::moveTo asserts it).
enum class ConnectionState : std::uint8_t {
  starting,       ///< made, not yet handed to its protocol
  connected,      ///< reading and writing
  disconnecting,  ///< loseConnection: the queue drains, then the socket closes
  closing,        ///< a close is scheduled (error, abort): no more I/O
  disconnected,   ///< closed, connectionLost called
};

/// The reading direction while the connection is open.
enum class ReadState : std::uint8_t {
  reading,  ///< watched for input
  paused,   ///< pauseProducing: input stays in the kernel
  closed,   ///< the peer shut its end (half-close); final
};

/// The writing direction while the connection is open (loseWriteConnection).
enum class WriteState : std::uint8_t {
  open,               ///< writes are accepted
  shutdownRequested,  ///< no more writes; shut down once the queue drains
  shutDown,           ///< shutdown(SHUT_WR) done; final
};

/// How input reaches the connection: readiness (recv in doRead), or the backend's
/// completion path (ReactorCore::completesReceives), where the kernel receives for us.
enum class ReceiveState : std::uint8_t {
  readiness,   ///< the backend has no completion path: doRead receives
  idle,        ///< no receive in the kernel
  armed,       ///< a multishot receive delivers input as it arrives
  cancelling,  ///< paused or closing the read side: the kernel's last completions still come
  replaying,   ///< input stashed while paused is delivered later in this pass
};

/// How output leaves the connection: by send system calls (readiness), or, for what fits
/// a backend send buffer, by the backend's completion path (ReactorCore::completesSends).
enum class SendState : std::uint8_t {
  readiness,  ///< the backend has no completion path for sends: write and doWrite send
  idle,       ///< completion path, no send in the kernel
  inFlight,   ///< completion path, a send in the kernel: later output queues behind it
};

/// Why the stashed input ends, if it does (input that arrived while paused).
enum class StashedEnd : std::uint8_t {
  none,         ///< more may follow
  endOfStream,  ///< the peer shut its end after the stashed bytes
  error,        ///< the socket failed after the stashed bytes (StashedInput::error)
};

/// Input the kernel completed after the connection paused (or before the pause reached
/// the kernel): kept, in order, for resumeProducing, so that no byte is lost.
struct StashedInput {
  std::string bytes;
  StashedEnd end = StashedEnd::none;
  int error = 0;
  bool pending() const noexcept { return !bytes.empty() || end != StashedEnd::none; }
};

/// The registered producer and what the connection owes it.
enum class ProducerState : std::uint8_t {
  none,             ///< no producer
  pull,             ///< a pull producer, asked each time the queue empties
  pullScheduled,    ///< a pull producer whose next ask is scheduled in this pass
  streaming,        ///< a push producer, running
  streamingPaused,  ///< a push producer paused at the high water mark
};

class TcpConnection final : public Transport, public Selectable, public ReactorHandle, public CompletionReceiver {
 public:
  TcpConnection(ReactorCore& core, int fd, const Address& peer, bool isTcp);
  /// An accepted TCP connection: the peer as accept() gave it, never turned into text.
  TcpConnection(ReactorCore& core, int fd, const PeerAddress& peer);
  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  /// Registers for reading, then attaches `protocol` (makeConnection). Returns false if
  /// the backend refused the descriptor (the connection is then closed, no user code ran).
  static bool start(const std::shared_ptr<TcpConnection>& connection, std::shared_ptr<Protocol> protocol,
                    std::shared_ptr<ConnectionObserver> observer);

  // Transport
  void write(Bytes data) override;
  void writeSequence(std::span<const Bytes> data) override;
  void loseConnection() override;
  void abortConnection() override;
  void loseWriteConnection() override;
  Address getPeer() const override;
  Address getHost() const override { return localAddress(fd_); }
  bool connected() const override { return isOpen(); }
  bool disconnecting() const override {
    return state_ == ConnectionState::disconnecting || state_ == ConnectionState::closing;
  }
  std::size_t writeBufferSize() const override { return (extras_ ? extras_->queue.size() : 0) + inFlight_; }
  void setWriteWatermarks(std::size_t high, std::size_t low) override;
  void setMaxQueuedOutput(std::size_t bytes) override { extras().maxQueued = bytes; }
  std::size_t maxQueuedOutput() const override { return extras_ ? extras_->maxQueued : kDefaultMaxQueuedOutput; }
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override;
  void unregisterProducer() override;
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override;
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override;
  Reactor* reactor() const noexcept override { return &core_.owner(); }
  std::shared_ptr<Protocol> replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) override;

  // IPushProducer: pausing a transport stops reading from its socket.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }

  // Selectable
  int fileno() const override { return fd_; }
  void doRead() override;
  void doWrite() override;

  // ReactorHandle
  void closeForShutdown() override;

  // CompletionReceiver
  void receiveCompleted(const ReceiveCompletion& completion) override;
  void sendCompleted(int result) override;

 private:
  // What an idle connection does not need lives here, allocated on first use (a queued
  // write, a producer, water marks, a client's connector, a Unix peer), so that a
  // connection that only reads and writes at once stays small.
  struct Extras {
    explicit Extras(ChunkPool& pool) : queue(pool) {}
    WriteQueue queue;
    std::shared_ptr<IPullProducer> producer;
    std::shared_ptr<ConnectionObserver> observer;
    std::size_t highWater = 64 * 1024;
    std::size_t lowWater = 16 * 1024;
    std::size_t maxQueued = kDefaultMaxQueuedOutput;  // 0: no cap
    Address unixPeer;
    StashedInput stash;
  };

  Extras& extras();
  /// Nothing waits to be sent: nothing queued, and no send in the kernel.
  bool queueEmpty() const noexcept { return (!extras_ || extras_->queue.empty()) && send_ != SendState::inFlight; }
  /// Output waits in the queue for the socket to take it (not behind a send in flight).
  bool waitsForRoom() const noexcept { return extras_ && !extras_->queue.empty() && send_ != SendState::inFlight; }
  IPullProducer* producer() const noexcept { return extras_ ? extras_->producer.get() : nullptr; }
  /// A shared reference to this connection; valid while the reactor holds it, which is
  /// whenever user code can reach us through a live transport.
  std::shared_ptr<TcpConnection> self() const { return std::static_pointer_cast<TcpConnection>(adoptedSelf()); }
  HalfCloseableProtocol* halfCloseable() const noexcept {
    return protocol_ ? ProtocolAccess::halfCloseable(*protocol_) : nullptr;
  }
  /// Between start and the close: what Twisted calls `connected`.
  bool isOpen() const noexcept {
    return state_ != ConnectionState::starting && state_ != ConnectionState::disconnected;
  }
  /// A close is scheduled or done: no more I/O.
  bool closingOrClosed() const noexcept { return state_ >= ConnectionState::closing; }
  /// Accepts writes: connected, and the writing direction still open.
  bool writable() const noexcept { return state_ == ConnectionState::connected && write_ == WriteState::open; }
  /// The one transition function for the connection state: it only moves forward.
  void moveTo(ConnectionState next) noexcept;

  void updateInterest();
  /// The completion path's counterpart of read interest: arms, cancels, or schedules the
  /// replay of stashed input so that the kernel receives exactly while `wantsInput`.
  void steerReceive(bool wantsInput);
  /// Delivers what was stashed while paused (a callSoon), then lets steerReceive arm.
  void replayStash();
  bool stashPending() const noexcept { return extras_ && extras_->stash.pending(); }
  /// The stream ended (result 0) or failed (a negative errno) while reading.
  void endInput(int result);
  /// The error to report for a failed send: the socket's own, if something consumed it
  /// before the send could see it, else `sendError`.
  int socketErrorOver(int sendError);
  /// Stops watching and receiving: before the descriptor closes.
  void forgetDescriptor();
  /// Closes the socket and tells the protocol, now. Only called from the loop itself
  /// (a dispatch or a callSoon), never from inside a call user code made.
  void connectionLostNow(const Failure& reason);
  /// Closes later in this pass: for errors met inside write() and friends.
  void connectionLostSoon(Failure reason);
  void handleEndOfInput();
  /// Hands `data` to a backend send buffer if it fits one and one is free (completion
  /// path, nothing in flight); returns whether it did.
  bool submitSend(Bytes data);
  /// Submits the first `length` bytes of the send buffer just filled: a send in flight.
  void startSend(std::size_t length);
  /// Sends what the queue holds: by the completion path if it fits a send buffer, else
  /// with one gathering sendmsg. Returns false with `error` set on a socket error.
  bool flushQueue(int& error);
  /// The one rule every write path follows once it queued or sent its bytes: a pull
  /// producer is asked again if everything went out at once (doWrite will not run), else
  /// the socket is watched for room and a push producer paused above the high water mark.
  void afterWrite();
  void afterDrain();
  /// Drops the connection if the queue has grown past maxQueuedOutput (a peer that does
  /// not read); returns true if it did.
  bool overQueueCap();
  void checkHighWater();
  /// Asks a pull producer for its next chunk later in this pass (never from inside write).
  void schedulePull();
  void requireTcp(const char* what) const;
  /// Runs a protocol hook; an escaping exception is logged and drops this connection.
  template <class Hook>
  bool guarded(const char* hook, Hook&& call);

  ReactorCore& core_;
  int fd_;
  const bool isTcp_;  // what the socket is, fixed at construction; not a state
  ConnectionState state_ = ConnectionState::starting;
  ReadState read_ = ReadState::reading;
  WriteState write_ = WriteState::open;
  ProducerState producer_ = ProducerState::none;
  ReceiveState receive_;
  SendState send_;
  std::uint32_t inFlight_ = 0;  // bytes of the send in flight (SendState::inFlight)
  PeerAddress peer_;            // compact: an Address with its string would double our size
  std::shared_ptr<Protocol> protocol_;
  std::unique_ptr<Extras> extras_;
};

}  // namespace torsion::detail
