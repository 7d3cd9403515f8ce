// Response::deliverBody and readBody.
#include <torsion/http/response.hpp>

#include "body_stream.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace torsion::http {

void Response::deliverBody(std::shared_ptr<BodyReceiver> receiver) const {
  if (!body_) throw std::logic_error("Response::deliverBody: this response has no body stream");
  body_->deliver(std::move(receiver));
}

bool Response::bodyAvailable() const noexcept { return body_ && !body_->delivered(); }

namespace {

// Collects a body up to a cap, then fires the Deferred with the response.
class BodyCollector : public BodyReceiver {
 public:
  BodyCollector(Response response, std::uint64_t maxBytes, Deferred<Response> done)
      : response_(std::move(response)), maxBytes_(maxBytes), done_(std::move(done)) {}

  void bodyStarted(std::shared_ptr<IPushProducer> producer) override { producer_ = std::move(producer); }

  void bodyReceived(Bytes data) override {
    if (state_ != State::reading) return;
    if (data.size() > maxBytes_ - body_.size()) {
      state_ = State::failed;
      auto producer = std::move(producer_);
      done_.errback(ResponseTooLargeError("body", maxBytes_));
      if (producer) producer->stopProducing();
      return;
    }
    body_.append(data);
  }

  void bodyFinished(const Failure& reason) override {
    producer_.reset();
    if (state_ != State::reading) return;
    state_ = State::finished;
    if (!reason.check<ResponseDone>()) {
      done_.errback(reason);
      return;
    }
    Response response = std::move(response_);
    response.body = std::move(body_);
    if (response.bodyStream()) response.trailers = response.bodyStream()->trailers();
    done_.callback(std::move(response));
  }

 private:
  enum class State { reading, finished, failed };
  Response response_;
  std::uint64_t maxBytes_;
  Deferred<Response> done_;
  std::shared_ptr<IPushProducer> producer_;
  std::string body_;
  State state_ = State::reading;
};

}  // namespace

Deferred<Response> ReadBody::operator()(Response response) const {
  Deferred<Response> done;
  if (response.length && *response.length > maxBytes) {
    done.errback(ResponseTooLargeError("body", maxBytes));
    return done;  // dropping the response abandons its body: the connection closes
  }
  auto collector = std::make_shared<BodyCollector>(response, maxBytes, done);
  response.deliverBody(std::move(collector));
  return done;
}

}  // namespace torsion::http
