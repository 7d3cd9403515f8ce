#include <torsion/errors.hpp>
#include <torsion/protocols/file_sender.hpp>

#include <stdexcept>

namespace torsion::protocols {

Deferred<std::uint64_t> FileSender::beginFileTransfer(std::shared_ptr<std::istream> file, Transport& consumer) {
  if (running_) throw std::logic_error("FileSender::beginFileTransfer: a transfer is already running");
  if (!file) throw std::invalid_argument("FileSender::beginFileTransfer: no stream");
  file_ = std::move(file);
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
    consumer_->write(Bytes(chunk_.data(), static_cast<std::size_t>(got)));
  }
  if (file_->bad()) {
    running_ = false;
    consumer_->unregisterProducer();
    file_.reset();
    done_.errback(std::runtime_error("FileSender: reading the stream failed after " + std::to_string(sent_) + " bytes"));
    return;
  }
  if (file_->eof() || got == 0) finish();
}

void FileSender::finish() {
  running_ = false;
  consumer_->unregisterProducer();
  file_.reset();
  done_.callback(sent_);
}

void FileSender::stopProducing() {
  if (!running_) return;
  running_ = false;
  file_.reset();
  done_.errback(ConnectionLost("Consumer asked us to stop producing"));
}

}  // namespace torsion::protocols
