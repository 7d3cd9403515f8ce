// Public. testing::StringTransport: a Transport that records writes instead of sending.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/failure.hpp>
#include <torsion/transport.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace torsion {
class Protocol;

namespace testing {

/// A Transport for tests (Twisted's `StringTransport`): it records what the protocol
/// writes, lets the test play the peer (receive(), receiveEof(), reportConnectionLost())
/// and shows every piece of state a protocol can change: disconnecting, aborted, half
/// closed, its producer state as a push producer, the registered producer and the write
/// water marks. It never touches a socket or a reactor.
///
/// Always hold it in a std::shared_ptr (a protocol keeps its transport alive that way).
/// A StringTransport knows its protocol only through makeConnection(Protocol&), which
/// does not keep the protocol alive: the protocol must outlive the calls that reach it.
///
/// Closing happens in two steps, as on a real connection: loseConnection() and
/// abortConnection() only mark the transport (disconnecting(), aborted()), and the test
/// then calls reportConnectionLost() to deliver connectionLost, the way the reactor
/// would once the socket is closed.
///
/// Writes normally reach value() at once. With setWritesBlocked(true) they wait in a
/// send queue instead, as when the peer does not read: writeBufferSize() grows, a
/// streaming producer is paused above the high water mark, and flush() later delivers
/// the queue and resumes it.
///
/// @code
/// auto transport = std::make_shared<torsion::testing::StringTransport>();
/// MyLineProtocol protocol;
/// transport->makeConnection(protocol);
/// transport->receive("hello\r\n");
/// EXPECT_EQ(transport->value(), "HELLO\r\n");
/// protocol.transport().loseConnection();
/// EXPECT_TRUE(transport->disconnecting());
/// transport->reportConnectionLost();          // protocol.connectionLost(ConnectionDone)
/// @endcode
///
/// Thread safety: use only on the test's thread; it takes no locks.
class StringTransport : public Transport, public std::enable_shared_from_this<StringTransport> {
 public:
  /// The transport's state in its role of push producer of the bytes it reads.
  enum class ProducerState {
    producing,  ///< reading (the initial state)
    paused,     ///< pauseProducing was called: receive() queues the bytes
    stopped,    ///< stopProducing was called: for good
  };

  /// A connected transport with the given addresses; by default this end is
  /// 10.0.0.1:12345 and the peer 192.168.1.1:54321, as in Twisted.
  explicit StringTransport(Address host = {Address::Family::ipv4, "10.0.0.1", 12345},
                           Address peer = {Address::Family::ipv4, "192.168.1.1", 54321});

  // ---- Test side: wiring and playing the peer ---------------------------------------

  /// Remembers `protocol` as this transport's protocol and calls its
  /// makeConnection(shared_from_this()), so that connectionMade runs.
  /// @throws std::bad_weak_ptr if this transport is not owned by a std::shared_ptr.
  void makeConnection(Protocol& protocol);

  /// Plays the peer sending `data`: the protocol's dataReceived gets it at once, as one
  /// read. While paused, the bytes are queued and delivered by resumeProducing; after
  /// loseConnection, abortConnection or the loss they are dropped (a real transport
  /// stops reading then).
  /// @throws std::logic_error if no protocol was connected with makeConnection.
  void receive(Bytes data);

  /// Plays the peer closing its side: a HalfCloseableProtocol gets readConnectionLost;
  /// any other protocol loses the connection with ConnectionDone.
  /// @throws std::logic_error if no protocol was connected with makeConnection.
  void receiveEof();

  /// Ends the connection: connected() becomes false, a registered producer gets
  /// stopProducing and is unregistered, and the protocol's connectionLost gets
  /// `reason`. Does nothing if the connection is already lost.
  void reportConnectionLost(const Failure& reason);

  /// Ends the connection with the reason a real transport would give: ConnectionAborted
  /// after abortConnection, ConnectionDone otherwise.
  void reportConnectionLost();

  // ---- Test side: inspecting ---------------------------------------------------------

  /// Every byte written (and not held back by setWritesBlocked) since the last clear().
  const std::string& value() const noexcept { return written_; }

  /// Forgets the recorded bytes.
  void clear() noexcept { written_.clear(); }

  /// How many write and writeSequence calls were recorded (each gathered write counts
  /// once), to check that a message went out in one system call.
  std::size_t writeCalls() const noexcept { return writeCalls_; }

  /// True once abortConnection was called.
  bool aborted() const noexcept { return aborted_; }

  /// True once loseWriteConnection was called.
  bool writeConnectionClosed() const noexcept { return writeClosed_; }

  /// This transport's state as the push producer of what it reads.
  ProducerState producerState() const noexcept { return producerState_; }

  /// The registered producer, or nullptr.
  const std::shared_ptr<IPullProducer>& producer() const noexcept { return producer_; }

  /// Whether the registered producer is a streaming (push) producer.
  bool streaming() const noexcept { return streaming_; }

  /// The high water mark set by setWriteWatermarks (65536 by default).
  std::size_t highWatermark() const noexcept { return high_; }

  /// The low water mark set by setWriteWatermarks (16384 by default).
  std::size_t lowWatermark() const noexcept { return low_; }

  /// True while the streaming producer is paused because the queue passed the high mark.
  bool producerPausedByWatermark() const noexcept { return producerPausedByUs_; }

  // ---- Test side: simulating a slow peer ---------------------------------------------

  /// While true, writes wait in the send queue instead of reaching value(). Setting it
  /// back to false flushes the queue.
  void setWritesBlocked(bool blocked);

  /// Whether writes wait in the send queue (see setWritesBlocked).
  bool writesBlocked() const noexcept { return writesBlocked_; }

  /// Moves the send queue to value(), as if the kernel took it all. Then a streaming
  /// producer paused by the water marks is resumed, or a pull producer is asked for one
  /// more chunk (resumeProducing), as a real transport does when its queue drains.
  void flush();

  // ---- Transport ---------------------------------------------------------------------

  /// Records `data` (see value()); dropped after loseConnection, abortConnection,
  /// loseWriteConnection or the loss.
  void write(Bytes data) override;

  /// Records the buffers as one write.
  void writeSequence(std::span<const Bytes> data) override;

  /// Marks the transport disconnecting; call reportConnectionLost to finish.
  void loseConnection() override;

  /// Marks the transport aborted and disconnecting; call reportConnectionLost to finish.
  void abortConnection() override;

  /// Marks the write side closed (writeConnectionClosed()).
  void loseWriteConnection() override;

  /// The peer address given to the constructor.
  Address getPeer() const override { return peer_; }

  /// The host address given to the constructor.
  Address getHost() const override { return host_; }

  /// True until reportConnectionLost.
  bool connected() const override { return connected_; }

  /// True after loseConnection or abortConnection, until the loss.
  bool disconnecting() const override { return disconnecting_; }

  /// Bytes held in the send queue by setWritesBlocked.
  std::size_t writeBufferSize() const override { return queued_.size(); }

  /// Sets the water marks used while writes are blocked.
  /// @throws std::invalid_argument if low > high.
  void setWriteWatermarks(std::size_t high, std::size_t low) override;

  /// Records the producer.
  /// @throws std::logic_error if one is already registered, or if `streaming` is true
  /// and the producer is not an IPushProducer.
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override;

  /// Forgets the producer.
  void unregisterProducer() override;

  /// Sets producerState() to paused: receive() queues from now on.
  void pauseProducing() override;

  /// Sets producerState() back to producing and delivers what receive() queued. Does
  /// nothing once stopped.
  void resumeProducing() override;

  /// Sets producerState() to stopped, for good.
  void stopProducing() override;

  /// Records the TCP_NODELAY setting (off by default).
  void setTcpNoDelay(bool enabled) override { noDelay_ = enabled; }

  /// The recorded TCP_NODELAY setting.
  bool getTcpNoDelay() const override { return noDelay_; }

  /// Records the SO_KEEPALIVE setting (off by default).
  void setTcpKeepAlive(bool enabled) override { keepAlive_ = enabled; }

  /// The recorded SO_KEEPALIVE setting.
  bool getTcpKeepAlive() const override { return keepAlive_; }

  /// Gives the protocol a clock (a testing::Clock) for its timers: Protocol::callLater
  /// and Protocol::clock() use it. Pass nullptr to take it away. The clock must outlive
  /// the protocol's timers.
  /// @code
  /// torsion::testing::Clock clock;
  /// transport->setClock(&clock);
  /// transport->makeConnection(protocol);   // connectionMade may now call callLater
  /// clock.advance(60);                     // its idle timeout fires
  /// @endcode
  void setClock(IReactorTime* clock) noexcept { clock_ = clock; }

  /// The clock given to setClock, or nullptr.
  IReactorTime* clock() const noexcept override { return clock_; }

  /// Makes `next` the protocol that receive() and the loss reach, in place of `current`
  /// (see Transport::replaceProtocol); the transport keeps `next` alive.
  /// @return a non-owning pointer to `current` (the test owns it).
  /// @throws std::logic_error if `current` is not this transport's protocol or the
  /// connection is lost.
  std::shared_ptr<Protocol> replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) override;

 private:
  Protocol& requireProtocol(const char* what) const;
  bool reading() const noexcept { return connected_ && !disconnecting_; }
  bool writable() const noexcept { return connected_ && !disconnecting_ && !writeClosed_; }
  void record(Bytes data);
  void afterQueueGrew();

  Address host_;
  Address peer_;
  Protocol* protocol_ = nullptr;
  std::shared_ptr<Protocol> inserted_;  // a protocol put in by replaceProtocol, which we own
  bool released_ = false;               // inserted_ was let go after the loss
  IReactorTime* clock_ = nullptr;
  std::string written_;
  std::string queued_;
  std::string unread_;
  std::size_t writeCalls_ = 0;
  std::size_t high_ = 65536;
  std::size_t low_ = 16384;
  std::shared_ptr<IPullProducer> producer_;
  ProducerState producerState_ = ProducerState::producing;
  bool streaming_ = false;
  bool producerPausedByUs_ = false;
  bool writesBlocked_ = false;
  bool connected_ = true;
  bool disconnecting_ = false;
  bool aborted_ = false;
  bool writeClosed_ = false;
  bool noDelay_ = false;
  bool keepAlive_ = false;
};

}  // namespace testing
}  // namespace torsion
