// Example library (file_server): the users file, one `name:secret` per line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace file_transfer {

/// Whether `name` is a user name: 1 to 32 of A-Z a-z 0-9 _ - (so it is also a safe
/// directory name for the home).
bool validUserName(std::string_view name);

/// The users and their secrets.
class Users {
 public:
  /// Parses a users file's text: `name:secret` per line; blank lines and lines starting
  /// with '#' are skipped; the secret is everything after the first ':'.
  /// @throws std::runtime_error naming the line of a malformed or duplicate entry.
  static Users parse(std::string_view text);

  /// Reads and parses the file at `path`.
  /// @throws std::runtime_error if it cannot be read or is malformed.
  static Users load(const std::string& path);

  /// The secret of `name`, or nothing for an unknown user.
  std::optional<std::string> secretOf(std::string_view name) const;

  /// How many users there are.
  std::size_t size() const noexcept { return secrets_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> secrets_;
};

}  // namespace file_transfer
