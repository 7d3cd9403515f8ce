// Public. BodyProducer: where a request body comes from (Twisted's IBodyProducer), with
// one producer for a string and one that streams a file with back-pressure.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/deferred.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/producer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace torsion::http {

/// Receives the bytes of a request body from a BodyProducer (Twisted's `IConsumer`).
/// The HTTP client protocol implements it: each write goes to the connection (framed as
/// a chunk when the length is unknown).
///
/// Thread safety: the reactor's thread only.
class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  /// Sends the next bytes of the body. Does nothing once the request was abandoned (the
  /// connection lost, the request cancelled); the producer's stopProducing tells it.
  /// @param data the bytes; copied or sent before the call returns.
  virtual void write(Bytes data) = 0;
};

/// A request body (Twisted's `IBodyProducer`): says its length if known, writes itself
/// to a consumer, and follows the connection's flow control.
///
/// The client protocol calls startProducing once per sending of the request; a retry on
/// a fresh connection or a 307/308 redirect calls it again, so a producer should be able
/// to start over (both producers here can; one that cannot fails the Deferred that
/// startProducing returns the second time). While producing, the connection may call
/// pauseProducing (its write queue is above the high water mark) and resumeProducing
/// (it drained), and stopProducing when the request is abandoned.
///
/// @code
/// class Numbers : public torsion::http::BodyProducer {
///   std::optional<std::uint64_t> length() const override { return std::nullopt; }  // chunked
///   torsion::Deferred<void> startProducing(std::shared_ptr<torsion::http::BodyConsumer> c) override {
///     c->write("1 2 3");
///     torsion::Deferred<void> done;
///     done.callback();
///     return done;
///   }
///   void pauseProducing() override {}
///   void resumeProducing() override {}
///   void stopProducing() override {}
/// };
/// @endcode
///
/// Thread safety: the reactor's thread only.
class BodyProducer : public IPushProducer {
 public:
  ~BodyProducer() override = default;

  /// The body's length in bytes: sent as Content-Length. nullopt when unknown: the body
  /// is then sent with `Transfer-Encoding: chunked`.
  virtual std::optional<std::uint64_t> length() const = 0;

  /// Starts writing the body to `consumer`.
  /// @param consumer where the bytes go; the producer may keep it until it finishes.
  /// @return fires when the whole body was written; fails if the producer cannot
  ///         produce it (the request then fails with RequestNotSentError).
  virtual Deferred<void> startProducing(std::shared_ptr<BodyConsumer> consumer) = 0;
};

/// A body held in memory (Twisted's `FileBodyProducer(BytesIO(...))`): written in one
/// piece, with Content-Length. Can be produced any number of times.
///
/// @code
/// auto body = std::make_shared<torsion::http::StringBodyProducer>("name=value");
/// agent.request("POST", url, headers, body);
/// @endcode
///
/// Thread safety: the reactor's thread only.
class StringBodyProducer : public BodyProducer {
 public:
  /// @param body the whole body.
  explicit StringBodyProducer(std::string body) : body_(std::move(body)) {}
  /// The size of the body.
  std::optional<std::uint64_t> length() const override { return body_.size(); }
  /// Writes the whole body at once and returns a fired Deferred.
  Deferred<void> startProducing(std::shared_ptr<BodyConsumer> consumer) override;
  /// Nothing to pause: the body was written at once.
  void pauseProducing() override {}
  /// Nothing to resume.
  void resumeProducing() override {}
  /// Nothing to stop.
  void stopProducing() override {}
  /// The body.
  const std::string& body() const noexcept { return body_; }

 private:
  std::string body_;
};

/// Streams a file as the request body (Twisted's `FileBodyProducer`), one chunk per
/// turn of the reactor, pausing while the connection's queue is full, so neither the
/// whole file nor an unbounded queue is ever in memory. The length is the file's size
/// when it is opened (Content-Length); the file is opened anew at each startProducing,
/// so a retry or a 307/308 redirect sends it again.
///
/// @code
/// auto body = std::make_shared<torsion::http::FileBodyProducer>(reactor, "upload.bin");
/// agent.request("PUT", url, {}, body);
/// @endcode
///
/// Thread safety: the reactor's thread only.
class FileBodyProducer : public BodyProducer, public std::enable_shared_from_this<FileBodyProducer> {
 public:
  /// @param clock schedules the chunks (the reactor); must outlive the producing.
  /// @param path the file to send.
  /// @param chunkSize the size of each write.
  /// @throws std::system_error when the file cannot be opened (its size is read here).
  FileBodyProducer(IReactorTime& clock, std::string path, std::size_t chunkSize = 64 * 1024);
  ~FileBodyProducer() override;
  FileBodyProducer(const FileBodyProducer&) = delete;             ///< Not copyable.
  FileBodyProducer& operator=(const FileBodyProducer&) = delete;  ///< Not copyable.

  /// The file's size when the producer was made.
  std::optional<std::uint64_t> length() const override { return length_; }
  /// Opens the file and starts writing it, a chunk per reactor turn.
  /// @return fires when the whole file was written; fails if it cannot be read or
  ///         its size changed.
  Deferred<void> startProducing(std::shared_ptr<BodyConsumer> consumer) override;
  /// Stops writing until resumeProducing.
  void pauseProducing() override;
  /// Goes on writing.
  void resumeProducing() override;
  /// Stops for good and closes the file; the Deferred of startProducing never fires.
  void stopProducing() override;

 private:
  /// What the producer is doing.
  enum class State { idle, producing, paused, finished };
  void writeChunk();
  void schedule();
  void finish();

  IReactorTime& clock_;
  std::string path_;
  std::size_t chunkSize_;
  std::uint64_t length_ = 0;
  std::uint64_t sent_ = 0;
  int fd_ = -1;
  State state_ = State::idle;
  std::shared_ptr<BodyConsumer> consumer_;
  Deferred<void> done_;
  DelayedCall next_;
  std::string buffer_;
};

}  // namespace torsion::http
