// Test support: a blocking client that speaks the file protocol message by message, for
// what file_client never does (replaying a login, sending garbage, not reading).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "wire.hpp"

namespace file_server_test {

/// One message as received: the header and its data.
struct Received {
  nlohmann::json header;  ///< the JSON header
  std::string data;       ///< the data after it
};

/// A connection to the file server on 127.0.0.1, read and written with deadlines.
class RawClient {
 public:
  /// Connects to 127.0.0.1:`port`; a non-zero `receiveBuffer` sets SO_RCVBUF first.
  explicit RawClient(std::uint16_t port, int receiveBuffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    if (receiveBuffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect");
    }
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends raw bytes.
  void sendRaw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) throw std::runtime_error("send");
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  /// Sends one message.
  void send(const nlohmann::json& header, std::string_view data = {}) {
    sendRaw(file_transfer::encodeFrame(header, data));
  }

  /// The next message, or nothing if the connection ended or `timeoutSeconds` passed.
  std::optional<Received> receive(double timeoutSeconds = 10) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeoutSeconds));
    for (;;) {
      if (buffer_.size() >= 4) {
        std::size_t length = 0;
        for (int i = 0; i < 4; ++i)
          length = (length << 8) | static_cast<unsigned char>(buffer_[static_cast<std::size_t>(i)]);
        if (buffer_.size() >= 4 + length) {
          auto message = file_transfer::decodeMessage(std::string_view(buffer_).substr(4, length));
          Received received{message.header, std::string(message.data)};
          buffer_.erase(0, 4 + length);
          return received;
        }
      }
      if (!readSome(deadline)) return std::nullopt;
    }
  }

  /// Whether the server closed the connection within `timeoutSeconds` (data before the
  /// end is discarded).
  bool closedByPeer(double timeoutSeconds = 10) {
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeoutSeconds));
    while (readSome(deadline)) buffer_.clear();
    return ended_;
  }

 private:
  bool readSome(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 || ended_) return false;
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[65536];
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      ended_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }

  int fd_ = -1;
  bool ended_ = false;
  std::string buffer_;
};

}  // namespace file_server_test
