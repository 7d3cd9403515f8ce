// Public. Headers: an ordered list of HTTP fields with case-insensitive lookup.
#pragma once

#include <torsion/http/errors.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::http {

/// Throws InvalidHeaderError unless `name` is an RFC 9110 token: one or more letters,
/// digits or the other characters RFC 9110 calls `tchar` (the punctuation marks
/// exclamation, hash, dollar, percent, ampersand, apostrophe, asterisk, plus, minus, dot,
/// caret, underscore, backtick, vertical bar and tilde).
/// @param name the field name to check.
void validateHeaderName(std::string_view name);

/// Throws InvalidHeaderError if `value` contains CR, LF or NUL; every other byte,
/// obs-text (0x80-0xFF) included, is allowed.
/// @param value the field value to check.
void validateHeaderValue(std::string_view value);

/// True when `a` and `b` are equal ignoring ASCII case (how field names compare).
/// @param a the first string.
/// @param b the second string.
bool equalsIgnoringCase(std::string_view a, std::string_view b) noexcept;

/// One header field: a name as it was given (its case kept) and its value.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct HeaderField {
  std::string name;   ///< the field name, case as given
  std::string value;  ///< the field value, without surrounding whitespace
};

/// The header fields of a request or a response (Twisted's `Headers`), in order.
///
/// Repeated fields are kept as separate entries, in the order they came, and names keep
/// their case; lookups ignore ASCII case. add and set validate what they are given
/// (validateHeaderName, validateHeaderValue), so a Headers never holds a field that
/// could split a request.
///
/// @code
/// torsion::http::Headers headers;
/// headers.add("Accept", "text/html");
/// headers.add("Accept", "*/*");
/// headers.get("accept");     // "text/html"
/// headers.getAll("ACCEPT");  // {"text/html", "*/*"}
/// @endcode
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
class Headers {
 public:
  /// Iterator over the fields, in order.
  using const_iterator = std::vector<HeaderField>::const_iterator;

  /// Appends a field, after any with the same name.
  /// @throws InvalidHeaderError when the name or the value is invalid.
  void add(std::string_view name, std::string_view value);

  /// Replaces every field named `name` with one field (where the first one was, or at
  /// the end).
  /// @throws InvalidHeaderError when the name or the value is invalid.
  void set(std::string_view name, std::string_view value);

  /// Removes every field named `name`; returns how many there were.
  /// @param name the field name, in any case.
  std::size_t remove(std::string_view name);

  /// The value of the first field named `name`, or nullopt.
  /// @param name the field name, in any case.
  std::optional<std::string> get(std::string_view name) const;

  /// The values of every field named `name`, in order (empty when there is none).
  /// @param name the field name, in any case.
  std::vector<std::string> getAll(std::string_view name) const;

  /// True when at least one field is named `name`.
  /// @param name the field name, in any case.
  bool has(std::string_view name) const;

  /// The number of fields (a repeated name counts each time).
  std::size_t size() const noexcept { return fields_.size(); }
  /// True when there is no field.
  bool empty() const noexcept { return fields_.empty(); }
  /// The first field.
  const_iterator begin() const noexcept { return fields_.begin(); }
  /// Past the last field.
  const_iterator end() const noexcept { return fields_.end(); }

  /// Equal when the same fields are in the same order (names compared ignoring case).
  friend bool operator==(const Headers& a, const Headers& b) noexcept;

 private:
  std::vector<HeaderField> fields_;
};

}  // namespace torsion::http
