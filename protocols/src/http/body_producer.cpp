// StringBodyProducer and FileBodyProducer.
#include <torsion/http/body_producer.hpp>

#include <torsion/errors.hpp>
#include <torsion/http/errors.hpp>

#include "timer_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>

namespace torsion::http {

Deferred<void> StringBodyProducer::startProducing(std::shared_ptr<BodyConsumer> consumer) {
  if (!body_.empty()) consumer->write(body_);
  Deferred<void> done;
  done.callback();
  return done;
}

FileBodyProducer::FileBodyProducer(IReactorTime& clock, std::string path, std::size_t chunkSize)
    : clock_(clock), path_(std::move(path)), chunkSize_(chunkSize == 0 ? 64 * 1024 : chunkSize) {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) {
    throw std::system_error(errno, std::generic_category(), "FileBodyProducer: cannot stat " + path_);
  }
  length_ = static_cast<std::uint64_t>(info.st_size);
}

FileBodyProducer::~FileBodyProducer() {
  detail::cancelTimer(next_);
  if (fd_ >= 0) ::close(fd_);
}

Deferred<void> FileBodyProducer::startProducing(std::shared_ptr<BodyConsumer> consumer) {
  detail::cancelTimer(next_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  done_ = Deferred<void>();
  Deferred<void> done = done_;
  if (fd_ < 0) {
    state_ = State::finished;
    done.errback(std::system_error(errno, std::generic_category(), "FileBodyProducer: cannot open " + path_));
    return done;
  }
  consumer_ = std::move(consumer);
  sent_ = 0;
  state_ = State::producing;
  schedule();
  return done;
}

void FileBodyProducer::schedule() {
  if (state_ != State::producing || next_.active()) return;
  // A weak handle: the timer must not keep the producer (or its consumer) alive.
  std::weak_ptr<FileBodyProducer> weak = weak_from_this();
  next_ = clock_.callLater(0, [weak] {
    if (auto self = weak.lock()) self->writeChunk();
  });
}

void FileBodyProducer::writeChunk() {
  if (state_ != State::producing) return;
  buffer_.resize(chunkSize_);
  const ssize_t got = ::read(fd_, buffer_.data(), buffer_.size());
  if (got < 0) {
    if (errno == EINTR) return schedule();
    const int error = errno;
    finish();
    done_.errback(std::system_error(error, std::generic_category(), "FileBodyProducer: cannot read " + path_));
    return;
  }
  if (got == 0) {
    finish();
    if (sent_ != length_) {
      done_.errback(RequestNotSentError("FileBodyProducer: " + path_ + " changed size while it was sent"));
    } else {
      done_.callback();
    }
    return;
  }
  sent_ += static_cast<std::uint64_t>(got);
  auto consumer = consumer_;
  consumer->write(Bytes(buffer_.data(), static_cast<std::size_t>(got)));
  schedule();
}

void FileBodyProducer::finish() {
  state_ = State::finished;
  detail::cancelTimer(next_);
  consumer_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FileBodyProducer::pauseProducing() {
  if (state_ != State::producing) return;
  state_ = State::paused;
  detail::cancelTimer(next_);
}

void FileBodyProducer::resumeProducing() {
  if (state_ != State::paused) return;
  state_ = State::producing;
  schedule();
}

void FileBodyProducer::stopProducing() {
  if (state_ == State::idle || state_ == State::finished) return;
  finish();
}

}  // namespace torsion::http
