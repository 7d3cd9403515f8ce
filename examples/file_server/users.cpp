#include "users.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace file_transfer {

bool validUserName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Users Users::parse(std::string_view text) {
  Users users;
  std::size_t lineNumber = 0;
  while (!text.empty()) {
    ++lineNumber;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    const std::string where = "users file line " + std::to_string(lineNumber);
    if (colon == std::string_view::npos) throw std::runtime_error(where + ": expected name:secret");
    const std::string_view name = line.substr(0, colon);
    const std::string_view secret = line.substr(colon + 1);
    if (!validUserName(name)) throw std::runtime_error(where + ": a name is 1-32 of A-Za-z0-9_-");
    if (secret.empty()) throw std::runtime_error(where + ": empty secret");
    if (!users.secrets_.emplace(std::string(name), std::string(secret)).second) {
      throw std::runtime_error(where + ": user '" + std::string(name) + "' listed twice");
    }
  }
  return users;
}

Users Users::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read users file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str());
}

std::optional<std::string> Users::secretOf(std::string_view name) const {
  const auto found = secrets_.find(name);
  if (found == secrets_.end()) return std::nullopt;
  return found->second;
}

}  // namespace file_transfer
