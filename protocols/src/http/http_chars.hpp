// Internal. Character classes of RFC 9110 / RFC 3986, and how bytes are quoted in errors.
#pragma once

#include <string>
#include <string_view>

namespace torsion::http::detail {

inline char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool isAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isHexDigit(char c) noexcept { return isDigit(c) || (lower(c) >= 'a' && lower(c) <= 'f'); }
inline int hexValue(char c) noexcept { return isDigit(c) ? c - '0' : lower(c) - 'a' + 10; }
inline bool isWhitespace(char c) noexcept { return c == ' ' || c == '\t'; }

/// tchar of RFC 9110 §5.6.2.
inline bool isTokenChar(char c) noexcept {
  if (isAlpha(c) || isDigit(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// Trims SP and HTAB at both ends (OWS).
inline std::string_view trimWhitespace(std::string_view text) noexcept {
  while (!text.empty() && isWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

/// "0x0d (CR)", "'x'": a byte as an error message names it.
inline std::string describeByte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte == '\r') return "CR";
  if (byte == '\n') return "LF";
  if (byte == 0) return "NUL";
  if (byte > 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  static const char digits[] = "0123456789abcdef";
  return std::string("0x") + digits[byte >> 4] + digits[byte & 15];
}

/// Text for an error message: control and non-ASCII bytes escaped, at most 80 shown.
inline std::string printable(std::string_view text) {
  std::string out;
  const std::size_t shown = text.size() < 80 ? text.size() : 80;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += text[i];
    } else {
      static const char digits[] = "0123456789abcdef";
      out += "\\x";
      out += digits[byte >> 4];
      out += digits[byte & 15];
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

}  // namespace torsion::http::detail
