// chat_server's room and users; the contract is in main.cpp's usage text.
#include "chat_room.hpp"

#include <torsion/log.hpp>

#include <algorithm>

namespace chat {

namespace {

constexpr std::size_t maxNickLength = 32;

bool validNick(const std::string& nick) {
  if (nick.empty() || nick.size() > maxNickLength) return false;
  return std::all_of(nick.begin(), nick.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

std::shared_ptr<torsion::Protocol> ChatRoom::buildProtocol(const torsion::Address&) {
  auto user = std::make_shared<ChatUser>(*this);
  user->factory = shared_from_this();
  return user;
}

ChatRoom::Claim ChatRoom::claim(const std::string& nick, ChatUser& user) {
  if (!validNick(nick)) return Claim::bad;
  if (!users_.emplace(nick, &user).second) return Claim::taken;
  return Claim::accepted;
}

void ChatRoom::release(const std::string& nick) { users_.erase(nick); }

void ChatRoom::broadcast(const std::string& line, const ChatUser* except) {
  // A copy: dropping a slow reader must not disturb the walk, whenever its
  // connectionLost runs.
  std::vector<ChatUser*> targets;
  targets.reserve(users_.size());
  for (const auto& [nick, user] : users_) {
    if (user != except) targets.push_back(user);
  }
  for (ChatUser* user : targets) user->say(line);
}

std::string ChatRoom::userList() const {
  std::string list;
  for (const auto& [nick, user] : users_) list += (list.empty() ? "" : ", ") + nick;
  return list;
}

ChatUser::ChatUser(ChatRoom& room) : room_(room) {
  // "\n" ends a line; a "\r" before it is removed in lineReceived, so both ends work.
  // One byte more than the limit leaves room for that "\r".
  delimiter = "\n";
  MAX_LENGTH = room.limits().maxLine + 1;
}

void ChatUser::connectionMade() {
  transport().setTcpNoDelay(true);
  idle_ = callLater(room_.limits().idleTimeout, [this] { closeWith("! idle timeout"); });
}

void ChatUser::dataReceived(torsion::Bytes data) {
  if (state_ == State::closing) return;
  idle_.reset(room_.limits().idleTimeout);
  LineReceiver::dataReceived(data);
}

void ChatUser::lineReceived(torsion::Bytes line) {
  if (state_ == State::closing) return;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > room_.limits().maxLine) {
    lineLengthExceeded(line);
    return;
  }
  if (state_ == State::naming) {
    chooseName(std::string(line));
  } else if (!line.empty() && line.front() == '/') {
    command(line);
  } else if (!line.empty()) {
    room_.broadcast("<" + nick_ + "> " + std::string(line), this);
  }
}

void ChatUser::lineLengthExceeded(torsion::Bytes) { closeWith("! line too long"); }

void ChatUser::chooseName(const std::string& nick) {
  switch (room_.claim(nick, *this)) {
    case ChatRoom::Claim::bad: say("! bad name"); return;
    case ChatRoom::Claim::taken: say("! name taken"); return;
    case ChatRoom::Claim::accepted: break;
  }
  nick_ = nick;
  state_ = State::joined;
  torsion::log::info("chat: {} joined from {}", nick_, transport().getPeer().toString());
  if (say("* welcome " + nick_)) room_.broadcast("* " + nick_ + " joined", this);
}

void ChatUser::command(std::string_view line) {
  if (line == "/who") {
    say("* users: " + room_.userList());
  } else if (line == "/quit") {
    closeWith("* bye");
  } else {
    say("! unknown command " + std::string(line.substr(0, line.find(' '))));
  }
}

bool ChatUser::say(std::string_view line) {
  if (state_ == State::closing || !connected() || transport().disconnecting()) return false;
  const torsion::Bytes parts[] = {line, "\r\n"};
  transport().writeSequence(parts);
  const std::size_t queued = transport().writeBufferSize();
  if (queued <= room_.limits().maxOutput) return true;
  // A reader this far behind would make the server hold an ever longer queue: drop it
  // at once (abort discards the queue) rather than let one client grow our memory.
  torsion::log::warn("chat: dropping {} ({}): {} bytes unread, over the {}-byte cap (slow reader)",
                     nick_.empty() ? "unnamed client" : nick_, transport().getPeer().toString(), queued,
                     room_.limits().maxOutput);
  state_ = State::closing;
  transport().abortConnection();
  return false;
}

void ChatUser::closeWith(std::string_view lastLine) {
  if (state_ == State::closing) return;
  say(lastLine);
  state_ = State::closing;
  clearLineBuffer();
  if (connected()) transport().loseConnection();
}

void ChatUser::connectionLost(const torsion::Failure&) {
  // idle_ needs no cancel: Protocol::callLater ends with the connection.
  if (nick_.empty()) return;
  room_.release(nick_);
  torsion::log::info("chat: {} left", nick_);
  room_.broadcast("* " + nick_ + " left", nullptr);
}

}  // namespace chat
