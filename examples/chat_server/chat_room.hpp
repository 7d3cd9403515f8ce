// chat_server's room: the factory that knows every user, and the line protocol of one.
#pragma once

#include <torsion/protocols/line_receiver.hpp>
#include <torsion/torsion.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chat {

/// The limits of one server, from the command line.
struct Limits {
  std::size_t maxLine = 512;           // bytes of a line without its end
  double idleTimeout = 300;            // seconds without a line before a client is closed
  std::size_t maxOutput = 256 * 1024;  // bytes queued for one client before it is dropped
};

class ChatUser;

/// Builds one ChatUser per connection and holds the nicknames of those that joined.
class ChatRoom : public torsion::Factory {
 public:
  explicit ChatRoom(Limits limits) : limits_(limits) {}

  std::shared_ptr<torsion::Protocol> buildProtocol(const torsion::Address& address) override;

  const Limits& limits() const noexcept { return limits_; }

  /// Why a nickname was refused, or `accepted`.
  enum class Claim { accepted, taken, bad };
  Claim claim(const std::string& nick, ChatUser& user);
  void release(const std::string& nick);

  /// Sends `line` to every joined user except `except` (null: to all).
  void broadcast(const std::string& line, const ChatUser* except);

  /// "A, B, C": the joined nicknames, sorted.
  std::string userList() const;

 private:
  Limits limits_;
  std::map<std::string, ChatUser*> users_;  // removed in ChatUser::connectionLost, before it dies
};

/// One client: its nickname first, then chat lines and commands.
class ChatUser : public torsion::protocols::LineReceiver {
 public:
  explicit ChatUser(ChatRoom& room);

  void connectionMade() override;
  void dataReceived(torsion::Bytes data) override;
  void lineReceived(torsion::Bytes line) override;
  void lineLengthExceeded(torsion::Bytes line) override;
  void connectionLost(const torsion::Failure& reason) override;

  /// Queues `line` and "\r\n"; drops this client if its queue is over the room's cap.
  /// Returns false if the client was dropped (now or before).
  bool say(std::string_view line);

 private:
  // naming: waiting for a nickname; joined: chatting; closing: said goodbye, no more input.
  enum class State { naming, joined, closing };

  void chooseName(const std::string& nick);
  void command(std::string_view line);
  void closeWith(std::string_view lastLine);

  ChatRoom& room_;  // the factory, kept alive by Protocol::factory
  State state_ = State::naming;
  std::string nick_;
  torsion::DelayedCall idle_;
};

}  // namespace chat
