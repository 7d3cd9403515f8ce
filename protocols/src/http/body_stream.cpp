// Internal. BodyStream: buffers a body until it is delivered, then passes it through.
#include "body_stream.hpp"

#include <torsion/errors.hpp>

#include <stdexcept>
#include <utility>

namespace torsion::http::detail {

BodyStream::~BodyStream() {
  if (!finished_) {
    if (auto source = source_.lock()) source->abandonBody();
  }
}

void BodyStream::write(Bytes data) {
  if (completed_ || data.empty()) return;
  if (!delivered_) {
    pending_.append(data);
    updateSourcePause();
    return;
  }
  auto receiver = receiver_;  // the receiver may stop the stream from inside
  receiver->bodyReceived(data);
}

void BodyStream::finish(const Failure& reason, Headers trailers) {
  if (finished_) return;
  finished_ = true;
  trailers_ = std::move(trailers);
  reason_ = reason;
  if (delivered_) complete();
}

void BodyStream::deliver(std::shared_ptr<BodyReceiver> receiver) {
  if (delivered_) throw std::logic_error("Response::deliverBody: the body was already delivered");
  if (!receiver) throw std::logic_error("Response::deliverBody: the receiver is null");
  delivered_ = true;
  receiver_ = std::move(receiver);
  auto self = shared_from_this();
  if (!finished_) self_ = self;
  auto keep = receiver_;
  keep->bodyStarted(self);
  if (!pending_.empty()) {
    std::string pending = std::move(pending_);
    pending_.clear();
    if (!completed_) keep->bodyReceived(pending);
  }
  if (finished_) {
    complete();
  } else {
    updateSourcePause();
  }
}

void BodyStream::complete() {
  if (completed_) return;
  completed_ = true;
  auto receiver = std::move(receiver_);
  auto self = std::move(self_);  // keeps this alive to the end of the call
  const Failure reason = *reason_;
  if (receiver) receiver->bodyFinished(reason);
  auto hooks = std::move(finishedHooks_);
  for (auto& hook : hooks) hook(reason);
}

void BodyStream::pauseProducing() {
  receiverPaused_ = true;
  updateSourcePause();
}

void BodyStream::resumeProducing() {
  receiverPaused_ = false;
  updateSourcePause();
}

void BodyStream::stopProducing() {
  if (finished_) return;
  if (auto source = source_.lock()) source->abandonBody();
  finish(Failure(CancelledError("The response body was abandoned by its receiver")));
  if (!delivered_) {
    // Nobody to tell: run the hooks.
    delivered_ = true;
    complete();
  }
}

void BodyStream::updateSourcePause() {
  const bool wanted = !finished_ && (receiverPaused_ || (!delivered_ && !pending_.empty()));
  if (wanted == sourcePaused_) return;
  sourcePaused_ = wanted;
  if (auto source = source_.lock()) {
    if (wanted) {
      source->pauseBody();
    } else {
      source->resumeBody();
    }
  }
}

}  // namespace torsion::http::detail
