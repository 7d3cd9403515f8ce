// Internal. BodyStream: the pipe between whoever produces a response body (the client
// protocol, or a content decoder) and the BodyReceiver the user gives deliverBody.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/failure.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/response.hpp>
#include <torsion/producer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torsion::http::detail {

/// What feeds a BodyStream, as the stream sees it: flow control and giving up.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// Stop delivering for now (the receiver is slow, or there is none yet).
  virtual void pauseBody() = 0;
  /// Deliver again.
  virtual void resumeBody() = 0;
  /// Nobody will read the body: stop for good (the connection is not reused).
  virtual void abandonBody() = 0;
};

/// Buffers the body until deliverBody (at most what arrives before the source obeys the
/// pause, one read), then passes it through. Keeps itself alive while delivering, until
/// the body finishes; if it dies undelivered and unfinished, it abandons its source.
class BodyStream : public BodySource, public IPushProducer, public std::enable_shared_from_this<BodyStream> {
 public:
  /// Where the stream is.
  enum class State { buffering, delivering, finished };

  explicit BodyStream(std::weak_ptr<BodySource> source) : source_(std::move(source)) {}
  ~BodyStream() override;
  BodyStream(const BodyStream&) = delete;
  BodyStream& operator=(const BodyStream&) = delete;

  // The producing side.
  void write(Bytes data);
  void finish(const Failure& reason, Headers trailers = {});

  // The user's side.
  void deliver(std::shared_ptr<BodyReceiver> receiver);
  bool delivered() const noexcept { return delivered_; }
  bool finished() const noexcept { return finished_; }
  const Headers& trailers() const noexcept { return trailers_; }

  /// Runs once the body finished (after the receiver heard of it), with the reason.
  void onFinished(std::function<void(const Failure&)> fn) { finishedHooks_.push_back(std::move(fn)); }

  // IPushProducer, for the receiver.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override;

  // BodySource, for a stream fed from this one.
  void pauseBody() override { pauseProducing(); }
  void resumeBody() override { resumeProducing(); }
  void abandonBody() override { stopProducing(); }

 private:
  void updateSourcePause();
  void complete();

  std::weak_ptr<BodySource> source_;
  std::shared_ptr<BodyReceiver> receiver_;
  std::shared_ptr<BodyStream> self_;  // while delivering, until finished
  std::string pending_;               // bytes that came before deliverBody
  std::optional<Failure> reason_;     // set by finish(), kept until delivered
  Headers trailers_;
  std::vector<std::function<void(const Failure&)>> finishedHooks_;
  bool delivered_ = false;
  bool finished_ = false;   // finish() was called by the source
  bool completed_ = false;  // the receiver heard bodyFinished
  bool receiverPaused_ = false;
  bool sourcePaused_ = false;
};

}  // namespace torsion::http::detail
