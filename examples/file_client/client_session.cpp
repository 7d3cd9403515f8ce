#include "client_session.hpp"

#include <torsion/reactor_interfaces.hpp>
#include <torsion/result.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "fd_stream.hpp"

namespace file_client {
namespace {

using file_transfer::ProtocolError;
using file_transfer::UniqueFd;

std::string errnoMessage(const std::string& what, const std::string& path) {
  return "cannot " + what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

ClientSession::ClientSession(Options options, Done done) : options_(std::move(options)), done_(std::move(done)) {
  MAX_LENGTH = file_transfer::kMaxMessage;
}

void ClientSession::stringReceived(torsion::Bytes payload) {
  if (state_ == State::finished) return;
  try {
    handle(file_transfer::decodeMessage(payload));
  } catch (const std::exception& error) {
    finish(std::string("bad answer from the server: ") + error.what());
  }
}

void ClientSession::connectionLost(const torsion::Failure& reason) {
  if (state_ != State::finished) finish("connection lost: " + reason.getErrorMessage());
  sender_.reset();
}

void ClientSession::handle(const file_transfer::Message& message) {
  const std::string type = message.type();
  if (type == "error") {
    finish(file_transfer::stringField(message.header, "message"));
    return;
  }
  switch (state_) {
    case State::awaitingChallenge: {
      if (type != "challenge") throw ProtocolError("expected a challenge");
      const std::string nonce = file_transfer::stringField(message.header, "nonce");
      state_ = State::awaitingLogin;
      send(
          {{"type", "login"}, {"user", options_.user}, {"answer", file_transfer::loginAnswer(options_.secret, nonce)}});
      return;
    }
    case State::awaitingLogin:
      if (type != "ok") throw ProtocolError("expected ok to the login");
      sendCommand();
      return;
    case State::awaitingReply:
      if (type != "ok") throw ProtocolError("expected ok");
      if (options_.command == "ls") {
        printListing(message.header);
      } else if (options_.command == "put") {
        startUpload(file_transfer::numberField(message.header, "offset", 0));
      } else if (options_.command == "get") {
        startDownload(message.header);
      } else {
        finish(std::nullopt);
      }
      return;
    case State::awaitingUploadResult:
      if (type != "ok") throw ProtocolError("expected ok to the upload");
      progress_->finish(size_, clock().seconds(), file_transfer::stringField(message.header, "sha256"));
      finish(std::nullopt);
      return;
    case State::downloading:
      if (type == "data") {
        receiveData(message.data);
      } else if (type == "end") {
        endDownload(file_transfer::stringField(message.header, "sha256"));
      } else {
        throw ProtocolError("expected data or end");
      }
      return;
    case State::uploading: throw ProtocolError("unexpected '" + file_transfer::printable(type) + "' during the upload");
    case State::finished: return;
  }
}

void ClientSession::sendCommand() {
  const auto& args = options_.arguments;
  state_ = State::awaitingReply;
  if (options_.command == "ls") {
    send({{"type", "ls"}, {"path", args.empty() ? "." : args[0]}});
  } else if (options_.command == "mkdir" || options_.command == "rm") {
    send({{"type", options_.command}, {"path", args[0]}});
  } else if (options_.command == "put") {
    local_ = UniqueFd(::open(args[0].c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!local_ || ::fstat(local_.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
      finish(errnoMessage("read", args[0]));
      return;
    }
    size_ = static_cast<std::uint64_t>(info.st_size);
    send({{"type", "put"}, {"path", args[1]}, {"size", size_}, {"resume", options_.resume}});
  } else {  // get: written to LOCAL.part, renamed once its checksum is right
    partPath_ = args[1] + ".part";
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options_.resume ? O_APPEND : O_TRUNC);
    local_ = UniqueFd(::open(partPath_.c_str(), flags, 0644));
    struct stat info {};
    if (!local_ || ::fstat(local_.get(), &info) != 0) {
      finish(errnoMessage("write", partPath_));
      return;
    }
    position_ = static_cast<std::uint64_t>(info.st_size);
    send({{"type", "get"}, {"path", args[0]}, {"offset", position_}});
  }
}

void ClientSession::startUpload(std::uint64_t offset) {
  if (offset > size_) throw ProtocolError("resume offset beyond the file");
  if (offset > 0) std::printf("resuming upload at byte %" PRIu64 " of %" PRIu64 "\n", offset, size_);
  hash_.emplace();
  hash_->updateFromFile(local_.get(), offset);
  if (::lseek(local_.get(), static_cast<off_t>(offset), SEEK_SET) < 0) throw ProtocolError("cannot seek");
  position_ = offset;
  progress_.emplace("put " + options_.arguments[0], size_, offset, ::isatty(STDOUT_FILENO) != 0, clock().seconds(),
                    stdout);
  state_ = State::uploading;
  if (options_.rate > 0) {
    sendNextChunk();
    return;
  }
  // Unthrottled: FileSender reads the next chunk only once the socket has taken the last.
  sender_ = std::make_shared<torsion::protocols::FileSender>();
  auto stream = std::make_shared<file_transfer::FdInputStream>(std::move(local_));
  sender_
      ->beginFileTransfer(stream, transport(), whileConnected([this](torsion::Bytes chunk) {
                            hash_->update(chunk);
                            position_ += chunk.size();
                            progress_->update(position_, clock().seconds());
                            return file_transfer::encodeFrame({{"type", "data"}}, chunk);
                          }))
      .addBoth(whileConnected([this](const torsion::Result<std::uint64_t>& sent) {
        if (sent.ok()) {
          endUpload();
        } else {
          finish("reading " + options_.arguments[0] + " failed: " + sent.failure().getErrorMessage());
        }
      }));
}

void ClientSession::sendNextChunk() {
  // Throttled: a chunk of a twentieth of a second's worth, then a pause that keeps the
  // average at the rate.
  const auto chunkSize =
      static_cast<std::size_t>(std::clamp(options_.rate / 20, 1.0, static_cast<double>(file_transfer::kMaxData)));
  std::string chunk(chunkSize, '\0');
  const ssize_t got = ::read(local_.get(), chunk.data(), chunk.size());
  if (got < 0) {
    finish(errnoMessage("read", options_.arguments[0]));
    return;
  }
  if (got == 0) {
    endUpload();
    return;
  }
  chunk.resize(static_cast<std::size_t>(got));
  hash_->update(chunk);
  position_ += chunk.size();
  transport().write(file_transfer::encodeFrame({{"type", "data"}}, chunk));
  progress_->update(position_, clock().seconds());
  callLater(static_cast<double>(chunk.size()) / options_.rate, [this] { sendNextChunk(); });
}

void ClientSession::endUpload() {
  if (position_ != size_) {
    finish(options_.arguments[0] + " changed size during the upload");
    return;
  }
  state_ = State::awaitingUploadResult;
  send({{"type", "end"}, {"sha256", hash_->hexDigest()}});
}

void ClientSession::startDownload(const nlohmann::json& header) {
  size_ = file_transfer::numberField(header, "size", 0);
  if (file_transfer::numberField(header, "offset", 0) != position_) throw ProtocolError("wrong offset");
  if (position_ > 0) std::printf("resuming download at byte %" PRIu64 " of %" PRIu64 "\n", position_, size_);
  hash_.emplace();
  UniqueFd reader(::open(partPath_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!reader) throw ProtocolError(errnoMessage("read", partPath_));
  hash_->updateFromFile(reader.get(), position_);
  progress_.emplace("get " + options_.arguments[0], size_, position_, ::isatty(STDOUT_FILENO) != 0, clock().seconds(),
                    stdout);
  state_ = State::downloading;
}

void ClientSession::receiveData(std::string_view data) {
  if (position_ + data.size() > size_) throw ProtocolError("more data than the file's size");
  std::string_view left = data;
  while (!left.empty()) {
    const ssize_t wrote = ::write(local_.get(), left.data(), left.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) {
      finish(errnoMessage("write", partPath_));
      return;
    }
    left.remove_prefix(static_cast<std::size_t>(wrote));
  }
  hash_->update(data);
  position_ += data.size();
  progress_->update(position_, clock().seconds());
  if (options_.rate > 0) {
    // Throttled: stop reading for as long as these bytes take at the rate.
    pauseProducing();
    callLater(static_cast<double>(data.size()) / options_.rate, [this] { resumeProducing(); });
  }
}

void ClientSession::endDownload(const std::string& sha256) {
  const std::string digest = hash_->hexDigest();
  local_ = UniqueFd();
  if (position_ != size_) {
    finish("download incomplete: " + options_.arguments[0]);
    return;
  }
  if (digest != sha256) {
    ::unlink(partPath_.c_str());
    finish("checksum mismatch: " + options_.arguments[0]);
    return;
  }
  if (::rename(partPath_.c_str(), options_.arguments[1].c_str()) != 0) {
    finish(errnoMessage("rename to", options_.arguments[1]));
    return;
  }
  progress_->finish(position_, clock().seconds(), digest);
  finish(std::nullopt);
}

void ClientSession::printListing(const nlohmann::json& header) {
  const auto entries = header.find("entries");
  if (entries == header.end() || !entries->is_array()) throw ProtocolError("listing without entries");
  for (const auto& entry : *entries) {
    const std::string kind = file_transfer::stringField(entry, "kind");
    const std::string name = file_transfer::stringField(entry, "name");
    std::printf("%s %12" PRIu64 " %s%s\n", kind.c_str(), file_transfer::numberField(entry, "size", 0),
                file_transfer::printable(name).c_str(), kind == "d" ? "/" : "");
  }
  if (header.value("truncated", false)) std::printf("(listing truncated)\n");
  finish(std::nullopt);
}

void ClientSession::send(const nlohmann::json& header) { sendString(file_transfer::encodeMessage(header)); }

void ClientSession::finish(std::optional<std::string> error) {
  if (state_ == State::finished) return;
  state_ = State::finished;
  // A download that failed before its first byte leaves no empty LOCAL.part behind.
  struct stat info {};
  if (error && !partPath_.empty() && ::stat(partPath_.c_str(), &info) == 0 && info.st_size == 0) {
    ::unlink(partPath_.c_str());
  }
  std::fflush(stdout);
  if (connected()) transport().loseConnection();
  if (done_) std::exchange(done_, nullptr)(std::move(error));
}

}  // namespace file_client
