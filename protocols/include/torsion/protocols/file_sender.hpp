// Public. FileSender: streams a file into a transport, one chunk whenever it drains.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/producer.hpp>
#include <torsion/transport.hpp>

#include <cstdint>
#include <istream>
#include <memory>
#include <string>

namespace torsion::protocols {

/// Sends a whole stream to a transport as a pull producer (Twisted's
/// `basic.FileSender`): a chunk is read only when the transport's queue has drained, so
/// a large file never sits in memory and a slow peer slows the reading down.
///
/// @code
/// auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
/// auto sender = std::make_shared<torsion::protocols::FileSender>();
/// sender->beginFileTransfer(file, transport())
///     .addCallback([this](std::uint64_t sent) { transport().loseConnection(); });
/// @endcode
class FileSender : public IPullProducer, public std::enable_shared_from_this<FileSender> {
 public:
  /// Bytes read and written per step.
  static constexpr std::size_t CHUNK_SIZE = 16 * 1024;

  /// Starts sending `file` (from its current position) to `consumer`, which must
  /// outlive the transfer. Create the FileSender with std::make_shared.
  /// @return a Deferred that fires with the number of bytes sent once the stream is
  /// exhausted, or fails if the consumer stopped the transfer (connection lost) or the
  /// stream failed to read.
  /// @throws std::logic_error if a transfer is already running.
  Deferred<std::uint64_t> beginFileTransfer(std::shared_ptr<std::istream> file, Transport& consumer);

  /// Reads one chunk and writes it; at the end, unregisters and fires the Deferred.
  void resumeProducing() override;

  /// The consumer is going away: the Deferred fails with ConnectionLost.
  void stopProducing() override;

 private:
  void finish();

  std::shared_ptr<std::istream> file_;
  Transport* consumer_ = nullptr;
  Deferred<std::uint64_t> done_;
  std::string chunk_;
  std::uint64_t sent_ = 0;
  bool running_ = false;
};

}  // namespace torsion::protocols
