// Example library (file_server): what a client may ask, checked field by field.
#pragma once

#include "wire.hpp"

#include <cstdint>
#include <string>

namespace file_transfer {

/// One client message, validated: the fields its kind needs are present and typed.
struct Request {
  /// The message kinds a client sends.
  enum class Kind { login, ls, mkdir, rm, put, get, data, end };

  Kind kind = Kind::ls;      ///< what is asked
  std::string user;          ///< login: the user name
  std::string answer;        ///< login: HMAC-SHA256(secret, nonce) in hex
  std::string path;          ///< ls, mkdir, rm, put, get: the path inside the home
  std::uint64_t size = 0;    ///< put: the whole file's size
  std::uint64_t offset = 0;  ///< get: the byte to start from
  bool resume = false;       ///< put: keep an earlier partial upload
  std::string sha256;        ///< end: SHA-256 of the whole file in hex
  std::string_view data;     ///< data: the bytes (a view into the payload)
};

/// Turns a decoded message into a Request.
/// @throws ProtocolError for an unknown type, a missing or mistyped field, or a path
/// longer than kMaxPath.
Request parseRequest(const Message& message);

}  // namespace file_transfer
