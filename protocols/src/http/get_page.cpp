// getPage and downloadPage: one page, read whole or streamed to a file.
#include <torsion/http/get_page.hpp>

#include <torsion/errors.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace torsion::http {

Deferred<Response> getPage(IReactorTCP& reactor, IReactorTime& clock, std::string_view url, PageOptions options) {
  // The request keeps the Agent's state (and its pool) alive until it ends; then the
  // pool goes and closes its connection.
  Agent agent(reactor, clock, nullptr, options.agent);
  return agent.request(options.method, url, std::move(options.headers), std::move(options.body))
      .addCallback(readBody.withLimit(options.maxBodyBytes));
}

namespace {

// Writes a body to `<path>.part` as it arrives, renames it to `path` when whole, and
// removes it on any failure.
class FileWriter : public BodyReceiver {
 public:
  FileWriter(Response response, std::string path, DownloadProgress progress, std::uint64_t maxBytes,
             Deferred<Response> done)
      : response_(std::move(response)),
        path_(std::move(path)),
        partPath_(path_ + ".part"),
        progress_(std::move(progress)),
        maxBytes_(maxBytes),
        done_(std::move(done)) {}

  ~FileWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(partPath_.c_str());
    }
  }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  /// Opens the part file; false (and the Deferred failed) if it cannot be.
  bool open() {
    fd_ = ::open(partPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ >= 0) return true;
    state_ = State::failed;
    done_.errback(std::system_error(errno, std::generic_category(), "downloadPage: cannot create " + partPath_));
    return false;
  }

  void bodyStarted(std::shared_ptr<IPushProducer> producer) override { producer_ = std::move(producer); }

  void bodyReceived(Bytes data) override {
    if (state_ != State::writing) return;
    if (data.size() > maxBytes_ - written_) return failAndStop(Failure(ResponseTooLargeError("body", maxBytes_)));
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return failAndStop(
            Failure(std::system_error(errno, std::generic_category(), "downloadPage: cannot write " + partPath_)));
      }
      data.remove_prefix(static_cast<std::size_t>(n));
      written_ += static_cast<std::uint64_t>(n);
    }
    if (progress_) progress_(written_, response_.length);
  }

  void bodyFinished(const Failure& reason) override {
    producer_.reset();
    if (state_ != State::writing) return;
    if (!reason.check<ResponseDone>()) return failWith(reason);
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
      return failWith(
          Failure(std::system_error(errno, std::generic_category(), "downloadPage: cannot write " + partPath_)));
    }
    if (::rename(partPath_.c_str(), path_.c_str()) != 0) {
      const int error = errno;
      ::unlink(partPath_.c_str());
      return failWith(Failure(std::system_error(error, std::generic_category(),
                                                "downloadPage: cannot rename " + partPath_ + " to " + path_)));
    }
    state_ = State::finished;
    done_.callback(std::move(response_));
  }

 private:
  enum class State { writing, finished, failed };

  void failAndStop(const Failure& failure) {
    auto producer = std::move(producer_);
    failWith(failure);
    if (producer) producer->stopProducing();
  }
  void failWith(const Failure& failure) {
    state_ = State::failed;
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    ::unlink(partPath_.c_str());
    done_.errback(failure);
  }

  Response response_;
  std::string path_;
  std::string partPath_;
  DownloadProgress progress_;
  std::uint64_t maxBytes_;
  Deferred<Response> done_;
  std::shared_ptr<IPushProducer> producer_;
  std::uint64_t written_ = 0;
  int fd_ = -1;
  State state_ = State::writing;
};

}  // namespace

Deferred<Response> downloadPage(IReactorTCP& reactor, IReactorTime& clock, std::string_view url, std::string path,
                                DownloadProgress progress, PageOptions options) {
  Agent agent(reactor, clock, nullptr, options.agent);
  const std::uint64_t maxBytes = options.maxBodyBytes;
  return agent.request(options.method, url, std::move(options.headers), std::move(options.body))
      .addCallback([path = std::move(path), progress = std::move(progress), maxBytes](Response response) {
        Deferred<Response> done;
        if (response.length && *response.length > maxBytes) {
          done.errback(ResponseTooLargeError("body", maxBytes));
          return done;
        }
        Response kept = response;
        kept.setBodyStream(nullptr);  // the writer must not keep its own body stream alive
        auto writer = std::make_shared<FileWriter>(std::move(kept), path, progress, maxBytes, done);
        if (writer->open()) response.deliverBody(std::move(writer));
        return done;
      });
}

}  // namespace torsion::http
