// Public. FileSender: streams a file into a transport, one chunk whenever it drains.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/producer.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>

namespace torsion::protocols {

/// Sends a whole stream to a transport as a pull producer (Twisted's
/// `basic.FileSender`): a chunk is read only when the transport's queue has drained, so
/// a large file never sits in memory and a slow peer slows the reading down. A
/// transform may turn each chunk into what is written, for example a framed message.
///
/// @code
/// auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
/// sender_ = std::make_shared<torsion::protocols::FileSender>();   // a member of the protocol
/// sender_->beginFileTransfer(file, transport())
///     .addCallback(whileConnected([this](std::uint64_t) { transport().loseConnection(); }));
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class FileSender : public IPullProducer, public std::enable_shared_from_this<FileSender> {
 public:
  /// Bytes read and written per step.
  static constexpr std::size_t CHUNK_SIZE = 16 * 1024;

  /// What is written for one chunk read from the stream (Twisted's `transform`): the
  /// chunk is a view valid during the call. An exception it throws ends the transfer
  /// with that failure.
  using Transform = std::function<std::string(Bytes chunk)>;

  /// Starts sending `file` (from its current position) to `consumer`, which must
  /// outlive the transfer (a transport does: it is the one that drops the producer).
  /// Create the FileSender with std::make_shared.
  /// @param file the stream to send, read CHUNK_SIZE bytes at a time.
  /// @param consumer the transport to write to.
  /// @param transform optional: each chunk is written as `transform(chunk)` instead of
  /// as itself. To send each chunk as an Int32StringReceiver message:
  /// @code
  /// sender->beginFileTransfer(file, transport(), [](torsion::Bytes chunk) {
  ///   std::string message(4 + chunk.size(), '\0');
  ///   for (int i = 0; i < 4; ++i) message[i] = static_cast<char>(chunk.size() >> (24 - 8 * i));
  ///   std::copy(chunk.begin(), chunk.end(), message.begin() + 4);
  ///   return message;
  /// });
  /// @endcode
  /// @return a Deferred that fires with the number of bytes read from the stream (before
  /// any transform) once it is exhausted, or fails if the consumer stopped the transfer
  /// (connection lost), the stream failed to read, or the transform threw.
  /// @throws std::logic_error if a transfer is already running.
  /// @throws std::invalid_argument if `file` is null.
  Deferred<std::uint64_t> beginFileTransfer(std::shared_ptr<std::istream> file, Transport& consumer,
                                            Transform transform = nullptr);

  /// Reads one chunk and writes it; at the end, unregisters and fires the Deferred.
  void resumeProducing() override;

  /// The consumer is going away: the Deferred fails with ConnectionLost.
  void stopProducing() override;

 private:
  void finish();
  void fail(Failure failure);

  std::shared_ptr<std::istream> file_;
  Transform transform_;
  Transport* consumer_ = nullptr;
  Deferred<std::uint64_t> done_;
  std::string chunk_;
  std::uint64_t sent_ = 0;
  bool running_ = false;
};

}  // namespace torsion::protocols
