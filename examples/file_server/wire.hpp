// Example library (file_server): the wire format of the file server's messages.
//
// Every message travels as one Int32StringReceiver frame whose payload is
//
//   +-----------------+----------------------+------------------------+
//   | header length   | header: JSON object  | data: raw bytes        |
//   | 2 bytes, big-e. | at most kMaxHeader   | at most kMaxData, opt. |
//   +-----------------+----------------------+------------------------+
//
// The header always has a string "type"; data follows only in "data" messages.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace file_transfer {

/// The largest JSON header, in bytes.
inline constexpr std::size_t kMaxHeader = 4096;
/// The largest data part of one message, in bytes.
inline constexpr std::size_t kMaxData = 64 * 1024;
/// The largest frame payload: the receivers' MAX_LENGTH.
inline constexpr std::size_t kMaxMessage = 2 + kMaxHeader + kMaxData;
/// The longest path a request may name, in bytes.
inline constexpr std::size_t kMaxPath = 1024;

/// A message that breaks the wire format; the connection that sent it is closed.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One decoded message: the header and a view of the data (valid as long as the payload).
struct Message {
  nlohmann::json header;  ///< a JSON object with a string "type"
  std::string_view data;  ///< raw bytes after the header, often empty

  /// The header's "type".
  std::string type() const { return header.at("type").get<std::string>(); }
};

/// The payload of one frame: header and data, without the 4-byte frame prefix.
/// @throws ProtocolError if the header or data exceeds its limit.
std::string encodeMessage(const nlohmann::json& header, std::string_view data = {});

/// The whole frame, 4-byte big-endian length prefix included, for writing straight to
/// a transport (as FileSender's transform does).
std::string encodeFrame(const nlohmann::json& header, std::string_view data = {});

/// Parses one frame payload.
/// @throws ProtocolError if it is truncated, too long, not a JSON object or has no
/// string "type".
Message decodeMessage(std::string_view payload);

/// The string field `name` of `header`.
/// @throws ProtocolError if it is missing or not a string.
std::string stringField(const nlohmann::json& header, const char* name);

/// The unsigned integer field `name` of `header`, or `fallback` if absent.
/// @throws ProtocolError if it is present but not an unsigned integer.
std::uint64_t numberField(const nlohmann::json& header, const char* name, std::uint64_t fallback);

/// `text` with every byte outside printable ASCII written as \xNN, for error messages
/// that quote what a peer sent.
std::string printable(std::string_view text);

}  // namespace file_transfer
