// Public. ThrottlingFactory: read and write bandwidth and connection limits (Twisted's).
#pragma once

#include <torsion/delayed_call.hpp>
#include <torsion/protocols/protocol_wrapper.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

namespace torsion::protocols {

/// Limits the bandwidth and the number of connections of the factory it wraps
/// (Twisted's ThrottlingFactory). Once a second it compares the bytes read and written
/// in that second with `readLimit` and `writeLimit` (bytes per second; 0: no limit).
/// Over the read limit, every connection stops reading (the transport's
/// pauseProducing) for as long as the excess would take at the limit, then reads again;
/// over the write limit, every registered producer is paused likewise and resumed.
/// Writes themselves are never delayed or dropped: as in Twisted, a protocol that
/// writes without a producer is counted but not held back. At `maxConnectionCount`
/// live connections new ones are refused.
///
/// The timers run only while a connection is live, on the clock given here.
///
/// @code
/// auto throttled = std::make_shared<torsion::protocols::ThrottlingFactory>(
///     reactor, torsion::Factory::forProtocol<Upload>(), 100, 64 * 1024, 0);  // 100 conns, 64 KiB/s in
/// reactor.listenTCP(8000, throttled);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class ThrottlingFactory : public WrappingFactory {
 public:
  /// Wraps `wrapped`, with the limits given (0 for a bandwidth: none). `clock` runs the
  /// per-second checks and must outlive the factory's connections.
  /// @throws std::invalid_argument if `wrapped` is null.
  ThrottlingFactory(IReactorTime& clock, std::shared_ptr<Factory> wrapped,
                    std::size_t maxConnectionCount = std::numeric_limits<std::size_t>::max(),
                    std::uint64_t readLimit = 0, std::uint64_t writeLimit = 0);
  ~ThrottlingFactory() override;

  /// Refuses (nullptr) at maxConnectionCount live connections, else wraps.
  std::shared_ptr<Protocol> buildProtocol(const Address& address) override;

  /// Counts the connection; the first one starts the per-second checks.
  void registerProtocol(ProtocolWrapper& wrapper) override;

  /// The last connection to go stops the checks (and any pending unthrottle).
  void unregisterProtocol(ProtocolWrapper& wrapper) override;

  /// Adds `bytes` to this second's reads (the wrappers call it).
  void registerRead(std::size_t bytes) noexcept { reads_.thisSecond += bytes; }

  /// Adds `bytes` to this second's writes (the wrappers call it).
  void registerWritten(std::size_t bytes) noexcept { writes_.thisSecond += bytes; }

  /// Bytes read since the factory was made.
  std::uint64_t totalRead() const noexcept { return reads_.total + reads_.thisSecond; }

  /// Bytes written since the factory was made.
  std::uint64_t totalWritten() const noexcept { return writes_.total + writes_.thisSecond; }

  /// True while reading is paused on every connection for the read limit.
  bool readsThrottled() const noexcept { return reads_.throttled; }

  /// True while producers are paused for the write limit.
  bool writesThrottled() const noexcept { return writes_.throttled; }

  /// The most live connections; more are refused.
  std::size_t maxConnectionCount;

  /// Bytes per second read over all connections before reading pauses (0: no limit).
  std::uint64_t readLimit;

  /// Bytes per second written over all connections before producers pause (0: no limit).
  std::uint64_t writeLimit;

 protected:
  /// Wraps in a wrapper that counts bytes and pauses on the factory's say-so.
  std::shared_ptr<ProtocolWrapper> wrapProtocol(std::shared_ptr<Protocol> wrapped) override;

 private:
  // Reads and writes are limited the same way, each with its own accounting.
  enum class Way : std::uint8_t { reads, writes };
  struct Direction {
    std::uint64_t thisSecond = 0;  // counted since the last check
    std::uint64_t total = 0;       // counted before the last check
    bool throttled = false;
    DelayedCall check;       // the next once-a-second check
    DelayedCall unthrottle;  // the end of the current pause
  };

  Direction& direction(Way way) noexcept { return way == Way::reads ? reads_ : writes_; }
  std::uint64_t limit(Way way) const noexcept { return way == Way::reads ? readLimit : writeLimit; }
  void checkBandwidth(Way way);
  void setThrottled(Way way, bool throttled);
  void unthrottle(Way way) { setThrottled(way, false); }
  DelayedCall schedule(double seconds, Way way, void (ThrottlingFactory::*step)(Way));
  void cancelTimers();

  IReactorTime& clock_;
  Direction reads_;
  Direction writes_;
};

}  // namespace torsion::protocols
