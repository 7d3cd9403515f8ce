#include "server_session.hpp"

#include <torsion/log.hpp>
#include <torsion/result.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd_stream.hpp"

namespace file_transfer {
namespace {

// Stands in for the secret of an unknown user, so that an unknown name costs the same
// HMAC as a known one and fails with the same answer: no user enumeration.
constexpr std::string_view kNoSuchUserSecret = "no such user: this secret never matches";

nlohmann::json entryJson(const DirectoryEntry& entry) {
  return {{"name", entry.name}, {"kind", std::string(1, entry.kind)}, {"size", entry.size}};
}

// Writes all of `data` to the blocking regular file `fd`.
void writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t wrote = ::write(fd, data.data(), data.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) throw FileError(std::string("write failed: ") + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(wrote));
  }
}

}  // namespace

ServerSession::ServerSession(std::shared_ptr<const ServerConfig> config) : config_(std::move(config)) {
  MAX_LENGTH = kMaxMessage;
}

void ServerSession::connectionMade() {
  nonce_ = makeNonce();
  reply({{"type", "challenge"}, {"nonce", nonce_}});
}

void ServerSession::stringReceived(torsion::Bytes payload) {
  if (state_ == State::closing) return;
  try {
    handle(parseRequest(decodeMessage(payload)));
  } catch (const ProtocolError& error) {
    drop(std::string("malformed message: ") + error.what());
  } catch (const FileError& error) {
    replyError(error.what());
  } catch (const std::exception& error) {
    drop(std::string("server error: ") + error.what());
  }
}

void ServerSession::lengthLimitExceeded(std::uint64_t length) {
  drop("malformed message: a frame of " + std::to_string(length) + " bytes is over the limit");
}

void ServerSession::connectionLost(const torsion::Failure&) {
  // An interrupted upload keeps its partial file: a later put --resume continues it.
  upload_.reset();
  sender_.reset();
}

void ServerSession::handle(const Request& request) {
  using Kind = Request::Kind;
  if (state_ == State::awaitingLogin) {
    if (request.kind != Kind::login) throw ProtocolError("expected a login");
    login(request);
    return;
  }
  if (state_ == State::uploading) {
    if (request.kind == Kind::data) {
      receiveData(request);
    } else if (request.kind == Kind::end) {
      finishUpload(request);
    } else {
      throw ProtocolError("expected data or end during an upload");
    }
    return;
  }
  if (state_ == State::downloading) throw ProtocolError("request during a download");
  switch (request.kind) {
    case Kind::ls: list(request); break;
    case Kind::mkdir:
      jail_->makeDirectory(request.path);
      reply({{"type", "ok"}});
      break;
    case Kind::rm:
      jail_->remove(request.path);
      reply({{"type", "ok"}});
      break;
    case Kind::put: beginUpload(request); break;
    case Kind::get: beginDownload(request); break;
    default: throw ProtocolError("unexpected message outside a transfer");
  }
}

void ServerSession::login(const Request& request) {
  const auto secret = validUserName(request.user) ? config_->users.secretOf(request.user) : std::nullopt;
  // The nonce is spent by this one attempt, right or wrong: an answer is good once.
  const std::string nonce = std::exchange(nonce_, std::string());
  const bool matches = answerMatches(secret ? *secret : kNoSuchUserSecret, nonce, request.answer);
  if (!secret || !matches) {
    torsion::log::info("file_server: failed login as '{}' from {}", printable(request.user),
                       transport().getPeer().toString());
    drop("authentication failed");
    return;
  }
  jail_ = Jail::openHome(config_->root.get(), request.user);
  user_ = request.user;
  state_ = State::ready;
  torsion::log::info("file_server: {} logged in from {}", user_, transport().getPeer().toString());
  reply({{"type", "ok"}});
}

void ServerSession::list(const Request& request) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& entry : jail_->list(request.path)) entries.push_back(entryJson(entry));
  // A listing too long for one message is cut short, and says so.
  nlohmann::json answer = {{"type", "ok"}, {"entries", entries}, {"truncated", false}};
  while (answer.dump().size() > kMaxHeader) {
    answer["entries"].erase(answer["entries"].size() - 1);
    answer["truncated"] = true;
  }
  reply(answer);
}

void ServerSession::beginUpload(const Request& request) {
  upload_ = jail_->beginUpload(request.path, request.resume);
  if (upload_->offset > request.size) {
    upload_.reset();
    throw FileError("the partial upload is longer than the file: " + printable(request.path));
  }
  hash_.emplace();
  hash_->updateFromFile(upload_->file.get(), upload_->offset);
  transferPath_ = request.path;
  uploadSize_ = request.size;
  received_ = upload_->offset;
  state_ = State::uploading;
  reply({{"type", "ok"}, {"offset", upload_->offset}});
}

void ServerSession::receiveData(const Request& request) {
  if (received_ + request.data.size() > uploadSize_) throw ProtocolError("more data than the announced size");
  writeAll(upload_->file.get(), request.data);
  hash_->update(request.data);
  received_ += request.data.size();
}

void ServerSession::finishUpload(const Request& request) {
  state_ = State::ready;
  const std::string digest = hash_->hexDigest();
  hash_.reset();
  auto upload = std::move(*upload_);
  upload_.reset();
  if (received_ != uploadSize_) throw FileError("upload incomplete: " + printable(transferPath_));
  if (digest != request.sha256) {
    Jail::discardUpload(upload);
    throw FileError("checksum mismatch: " + printable(transferPath_));
  }
  Jail::commitUpload(upload, transferPath_);
  reply({{"type", "ok"}, {"sha256", digest}});
}

void ServerSession::beginDownload(const Request& request) {
  UniqueFd file = jail_->openForReading(request.path);
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) throw FileError("cannot read: " + printable(request.path));
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (request.offset > size) throw FileError("offset beyond the end of the file: " + printable(request.path));
  hash_.emplace();
  hash_->updateFromFile(file.get(), request.offset);
  if (::lseek(file.get(), static_cast<off_t>(request.offset), SEEK_SET) < 0) {
    throw FileError("cannot read: " + printable(request.path));
  }
  transferPath_ = request.path;
  state_ = State::downloading;
  reply({{"type", "ok"}, {"size", size}, {"offset", request.offset}});
  // FileSender reads a chunk only when the transport has drained: a client that stops
  // reading stops the disk reads too, and the server never holds more than a chunk.
  sender_ = std::make_shared<torsion::protocols::FileSender>();
  auto stream = std::make_shared<FdInputStream>(std::move(file));
  sender_
      ->beginFileTransfer(stream, transport(), whileConnected([this](torsion::Bytes chunk) {
                            hash_->update(chunk);
                            return encodeFrame({{"type", "data"}}, chunk);
                          }))
      .addBoth(whileConnected([this](const torsion::Result<std::uint64_t>& sent) { finishDownload(sent.ok()); }));
}

void ServerSession::finishDownload(bool completed) {
  if (!completed) {
    drop("reading the file failed: " + printable(transferPath_));
    return;
  }
  state_ = State::ready;
  const std::string digest = hash_->hexDigest();
  hash_.reset();
  reply({{"type", "end"}, {"sha256", digest}});
}

void ServerSession::reply(const nlohmann::json& header) { sendString(encodeMessage(header)); }

void ServerSession::replyError(const std::string& message) { reply({{"type", "error"}, {"message", message}}); }

void ServerSession::drop(const std::string& message) {
  if (state_ == State::closing) return;
  state_ = State::closing;
  upload_.reset();
  if (connected()) {
    replyError(message);
    transport().loseConnection();
  }
}

}  // namespace file_transfer
