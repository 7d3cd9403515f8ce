// Example (file_client): the client side of the file protocol, one command per connection.
#pragma once

#include <torsion/protocols/file_sender.hpp>
#include <torsion/protocols/int_n_string_receiver.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "jail.hpp"
#include "progress.hpp"
#include "wire.hpp"

namespace file_client {

/// What the client was asked to do.
struct Options {
  std::string user;                    ///< the user name to log in as
  std::string secret;                  ///< that user's secret
  bool resume = false;                 ///< continue an interrupted put or get
  double rate = 0;                     ///< bytes per second for put/get data; 0: no limit
  std::string command;                 ///< ls, mkdir, rm, put or get
  std::vector<std::string> arguments;  ///< the command's arguments, defaults filled in
};

/// Logs in, runs one command, reports how it went through `done` (an error message, or
/// nothing on success) and closes the connection.
class ClientSession : public torsion::protocols::Int32StringReceiver {
 public:
  /// Called once with the error message, or nothing on success.
  using Done = std::function<void(std::optional<std::string> error)>;

  /// A session running `options`, reporting to `done`.
  ClientSession(Options options, Done done);

  /// Handles one message from the server.
  void stringReceived(torsion::Bytes payload) override;
  /// Reports a connection that ended before the command did.
  void connectionLost(const torsion::Failure& reason) override;

 private:
  // Where the session is in its one command.
  enum class State {
    awaitingChallenge,
    awaitingLogin,
    awaitingReply,
    uploading,
    awaitingUploadResult,
    downloading,
    finished
  };

  void handle(const file_transfer::Message& message);
  void sendCommand();
  void startUpload(std::uint64_t offset);
  void sendNextChunk();
  void endUpload();
  void startDownload(const nlohmann::json& header);
  void receiveData(std::string_view data);
  void endDownload(const std::string& sha256);
  void printListing(const nlohmann::json& header);

  void send(const nlohmann::json& header);
  void finish(std::optional<std::string> error);

  Options options_;
  Done done_;
  State state_ = State::awaitingChallenge;
  // The transfer under way.
  file_transfer::UniqueFd local_;
  std::string partPath_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
  std::optional<file_transfer::Sha256> hash_;
  std::optional<Progress> progress_;
  std::shared_ptr<torsion::protocols::FileSender> sender_;
};

}  // namespace file_client
