// Example library (file_server): one client's session on the file server.
#pragma once

#include <torsion/protocols/file_sender.hpp>
#include <torsion/protocols/int_n_string_receiver.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "crypto.hpp"
#include "jail.hpp"
#include "request.hpp"
#include "users.hpp"

namespace file_transfer {

/// What every session of one server shares: the root of the homes and the users.
struct ServerConfig {
  UniqueFd root;  ///< the directory holding one home per user
  Users users;    ///< who may log in, with their secrets
};

/// Speaks the file protocol with one client: challenge, login, then requests, one at a
/// time. A malformed message is answered with an error and closes this connection only;
/// a refused or failed file operation is answered with an error and the session goes on.
class ServerSession : public torsion::protocols::Int32StringReceiver {
 public:
  /// A session using `config` (shared by all sessions of the server).
  explicit ServerSession(std::shared_ptr<const ServerConfig> config);

  /// Sends the login challenge with a fresh nonce.
  void connectionMade() override;
  /// Handles one message.
  void stringReceived(torsion::Bytes payload) override;
  /// Answers an over-long frame with an error and closes the connection.
  void lengthLimitExceeded(std::uint64_t length) override;
  /// Closes a partial upload (it stays, for a resume).
  void connectionLost(const torsion::Failure& reason) override;

 private:
  // Where the session is; requests are accepted in `ready` only.
  enum class State { awaitingLogin, ready, uploading, downloading, closing };

  void handle(const Request& request);
  void login(const Request& request);
  void list(const Request& request);
  void beginUpload(const Request& request);
  void receiveData(const Request& request);
  void finishUpload(const Request& request);
  void beginDownload(const Request& request);
  void finishDownload(bool completed);

  void reply(const nlohmann::json& header);
  void replyError(const std::string& message);
  void drop(const std::string& message);

  std::shared_ptr<const ServerConfig> config_;
  State state_ = State::awaitingLogin;
  std::string nonce_;
  std::string user_;
  std::optional<Jail> jail_;
  // The transfer under way (uploading or downloading).
  std::string transferPath_;
  std::optional<Jail::Upload> upload_;
  std::uint64_t uploadSize_ = 0;
  std::uint64_t received_ = 0;
  std::optional<Sha256> hash_;
  std::shared_ptr<torsion::protocols::FileSender> sender_;
};

}  // namespace file_transfer
