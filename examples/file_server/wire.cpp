#include "wire.hpp"

#include <cstdio>

namespace file_transfer {

std::string encodeMessage(const nlohmann::json& header, std::string_view data) {
  const std::string text = header.dump();
  if (text.size() > kMaxHeader) throw ProtocolError("message header too long");
  if (data.size() > kMaxData) throw ProtocolError("message data too long");
  std::string payload;
  payload.reserve(2 + text.size() + data.size());
  payload.push_back(static_cast<char>(text.size() >> 8));
  payload.push_back(static_cast<char>(text.size() & 0xff));
  payload += text;
  payload += data;
  return payload;
}

std::string encodeFrame(const nlohmann::json& header, std::string_view data) {
  const std::string payload = encodeMessage(header, data);
  std::string frame(4, '\0');
  for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<char>(payload.size() >> (24 - 8 * i));
  return frame + payload;
}

Message decodeMessage(std::string_view payload) {
  if (payload.size() > kMaxMessage) throw ProtocolError("message too long");
  if (payload.size() < 2) throw ProtocolError("message truncated");
  const std::size_t length =
      (static_cast<std::size_t>(static_cast<unsigned char>(payload[0])) << 8) | static_cast<unsigned char>(payload[1]);
  if (length > kMaxHeader) throw ProtocolError("message header too long");
  if (length > payload.size() - 2) throw ProtocolError("message header truncated");
  Message message;
  // No exceptions from the parser: a malformed header is an ordinary event here.
  message.header = nlohmann::json::parse(payload.substr(2, length), nullptr, false);
  if (message.header.is_discarded()) throw ProtocolError("message header is not JSON");
  if (!message.header.is_object()) throw ProtocolError("message header is not a JSON object");
  const auto type = message.header.find("type");
  if (type == message.header.end() || !type->is_string()) throw ProtocolError("message has no type");
  message.data = payload.substr(2 + length);
  if (message.data.size() > kMaxData) throw ProtocolError("message data too long");
  return message;
}

std::string stringField(const nlohmann::json& header, const char* name) {
  const auto found = header.find(name);
  if (found == header.end() || !found->is_string()) {
    throw ProtocolError(std::string("field '") + name + "' missing or not a string");
  }
  return found->get<std::string>();
}

std::uint64_t numberField(const nlohmann::json& header, const char* name, std::uint64_t fallback) {
  const auto found = header.find(name);
  if (found == header.end()) return fallback;
  if (!found->is_number_unsigned()) throw ProtocolError(std::string("field '") + name + "' is not a whole number");
  return found->get<std::uint64_t>();
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

}  // namespace file_transfer
