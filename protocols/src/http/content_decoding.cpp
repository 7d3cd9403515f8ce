// Internal. A BodyReceiver that decodes gzip/deflate into another BodyStream.
#include "content_decoding.hpp"

#include <torsion/http/gzip_decoder.hpp>

#include "body_stream.hpp"
#include "http_chars.hpp"

#include <memory>
#include <optional>
#include <utility>

namespace torsion::http::detail {

namespace {

// Reads the encoded body and writes the decoded one into `out`. Holds `out` weakly: if
// the user drops the decoded response, `out` dies and abandons this (its source).
class DecodingReceiver : public BodyReceiver {
 public:
  DecodingReceiver(GzipDecoder::Format format, std::weak_ptr<BodyStream> out, std::uint64_t maxBytes)
      : out_(std::move(out)),
        decoder_(
            format,
            [this](Bytes data) {
              if (auto stream = out_.lock()) stream->write(data);
            },
            maxBytes) {}

  void bodyStarted(std::shared_ptr<IPushProducer> producer) override { producer_ = std::move(producer); }

  void bodyReceived(Bytes data) override {
    if (failed_) return;
    if (out_.expired()) return stop();
    try {
      decoder_.decode(data);
    } catch (...) {
      failWith(Failure::current());
    }
  }

  void bodyFinished(const Failure& reason) override {
    producer_.reset();
    if (failed_) return;
    auto out = out_.lock();
    if (!out) return;
    if (!reason.check<ResponseDone>()) {
      out->finish(reason);
      return;
    }
    try {
      decoder_.finish();
    } catch (...) {
      out->finish(Failure::current());
      return;
    }
    out->finish(reason);
  }

 private:
  void stop() {
    failed_ = true;
    if (auto producer = std::move(producer_)) producer->stopProducing();
  }
  void failWith(const Failure& failure) {
    auto out = out_.lock();
    stop();
    if (out) out->finish(failure);
  }

  std::weak_ptr<BodyStream> out_;
  GzipDecoder decoder_;
  std::shared_ptr<IPushProducer> producer_;
  bool failed_ = false;
};

}  // namespace

Response decodeContent(Response response, std::uint64_t maxDecodedBytes) {
  auto coding = response.headers.get("Content-Encoding");
  if (!coding || !response.bodyStream() || response.length == std::uint64_t{0}) return response;
  auto format = GzipDecoder::formatFor(trimWhitespace(*coding));
  if (!format) return response;
  std::shared_ptr<BodyStream> encoded = response.bodyStream();
  auto decoded = std::make_shared<BodyStream>(std::weak_ptr<BodySource>(encoded));
  encoded->deliver(std::make_shared<DecodingReceiver>(*format, decoded, maxDecodedBytes));
  response.headers.remove("Content-Encoding");
  response.headers.remove("Content-Length");
  response.length.reset();
  response.setBodyStream(std::move(decoded));
  return response;
}

}  // namespace torsion::http::detail
