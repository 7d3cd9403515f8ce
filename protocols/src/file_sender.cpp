#include <torsion/errors.hpp>
#include <torsion/protocols/file_sender.hpp>

#include <stdexcept>

namespace torsion::protocols {

Deferred<std::uint64_t> FileSender::beginFileTransfer(std::shared_ptr<std::istream> file, Transport& consumer,
                                                      Transform transform) {
  if (running_) throw std::logic_error("FileSender::beginFileTransfer: a transfer is already running");
  if (!file) throw std::invalid_argument("FileSender::beginFileTransfer: no stream");
  file_ = std::move(file);
  transform_ = std::move(transform);
  consumer_ = &consumer;
  done_ = Deferred<std::uint64_t>();
  sent_ = 0;
  running_ = true;
  chunk_.resize(CHUNK_SIZE);
  Deferred<std::uint64_t> result = done_;
  consumer.registerProducer(shared_from_this(), false);
  return result;
}

void FileSender::resumeProducing() {
  if (!running_) return;
  file_->read(chunk_.data(), static_cast<std::streamsize>(chunk_.size()));
  std::streamsize got = file_->gcount();
  if (got > 0) {
    sent_ += static_cast<std::uint64_t>(got);
    Bytes chunk(chunk_.data(), static_cast<std::size_t>(got));
    if (transform_) {
      std::string transformed;
      try {
        transformed = transform_(chunk);
      } catch (...) {
        fail(Failure::current());
        return;
      }
      consumer_->write(transformed);
    } else {
      consumer_->write(chunk);
    }
  }
  if (file_->bad()) {
    fail(
        Failure(std::runtime_error("FileSender: reading the stream failed after " + std::to_string(sent_) + " bytes")));
    return;
  }
  if (file_->eof() || got == 0) finish();
}

void FileSender::fail(Failure failure) {
  running_ = false;
  consumer_->unregisterProducer();
  file_.reset();
  transform_ = nullptr;
  done_.errback(std::move(failure));
}

void FileSender::finish() {
  running_ = false;
  consumer_->unregisterProducer();
  file_.reset();
  transform_ = nullptr;
  done_.callback(sent_);
}

void FileSender::stopProducing() {
  if (!running_) return;
  running_ = false;
  file_.reset();
  transform_ = nullptr;
  done_.errback(ConnectionLost("Consumer asked us to stop producing"));
}

}  // namespace torsion::protocols
