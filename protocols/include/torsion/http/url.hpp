// Public. Url: strict parsing of http and https URLs, and RFC 3986 reference resolution.
#pragma once

#include <torsion/http/errors.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace torsion::http {

/// An absolute `http` or `https` URL, parsed strictly (RFC 3986 syntax, RFC 9110 §4.2).
///
/// What parse accepts and refuses:
/// - the scheme must be `http` or `https`, in any case (kept in lower case); any other
///   scheme throws UnsupportedSchemeError, and a URL without `//authority` throws
///   InvalidUrlError;
/// - the host is a registered name (letters, digits, `-`, `.`, `_`; kept in lower case),
///   a dotted IPv4 address (a host of digits and dots must be one), or an IPv6 literal in
///   brackets (`[::1]`; zone identifiers and IPvFuture are refused);
/// - the port is 1..65535; an absent or empty port means 80 for http and 443 for https;
/// - user information (`user:password@`) is refused: credentials in URLs leak into logs
///   and Referer headers, and the client has no use for them;
/// - path and query are kept exactly as given: percent-escapes are checked (`%` and two
///   hex digits) but not decoded, and nothing is normalised;
/// - the fragment is dropped (it is never sent);
/// - spaces, control characters, non-ASCII bytes and the characters that RFC 3986 does
///   not allow anywhere in a URI (such as `<`, `>`, `{`, `}`, `|`, the backslash and the
///   double quote) are refused: percent-encode them first.
///
/// @code
/// auto url = torsion::http::Url::parse("http://[::1]:8080/a%20b?x=1#top");
/// url.authority();      // "[::1]:8080"   (the Host header)
/// url.requestTarget();  // "/a%20b?x=1"
/// url.resolve("../c").toString();  // "http://[::1]:8080/c"
/// @endcode
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
class Url {
 public:
  /// Parses an absolute http or https URL.
  /// @param text the URL.
  /// @throws UnsupportedSchemeError when the scheme is not http or https.
  /// @throws InvalidUrlError for anything else that is not a valid URL (what() says what).
  static Url parse(std::string_view text);

  /// Resolves a reference against this URL, as for a Location header (RFC 3986 §5.2:
  /// absolute, scheme-relative, absolute-path and relative-path references, dot
  /// segments removed, query-only and fragment-only references). The result is checked
  /// as parse checks a URL.
  /// @param reference the reference, such as "../next?page=2".
  /// @throws UnsupportedSchemeError when the result's scheme is not http or https.
  /// @throws InvalidUrlError when the reference or the result is invalid.
  Url resolve(std::string_view reference) const;

  /// "http" or "https".
  const std::string& scheme() const noexcept { return scheme_; }
  /// The host: a lower-case name, an IPv4 address, or an IPv6 address without brackets.
  const std::string& host() const noexcept { return host_; }
  /// The port, the scheme's default when the URL has none.
  std::uint16_t port() const noexcept { return port_; }
  /// The path as given, percent-escapes kept; may be empty ("http://host").
  const std::string& path() const noexcept { return path_; }
  /// The query without its '?', as given; nullopt when the URL has no '?' at all.
  const std::optional<std::string>& query() const noexcept { return query_; }

  /// True for an IPv6 literal host.
  bool hostIsIPv6() const noexcept { return host_.find(':') != std::string::npos; }
  /// The scheme's default port: 80 for http, 443 for https.
  std::uint16_t defaultPort() const noexcept { return scheme_ == "https" ? 443 : 80; }

  /// The Host header's value: the host (in brackets if IPv6), and ":port" unless the
  /// port is the scheme's default.
  std::string authority() const;

  /// The origin-form request target: the path ("/" when empty) and "?query" if any.
  std::string requestTarget() const;

  /// The URL without its fragment: scheme "://" authority path ["?" query].
  std::string toString() const;

  /// Equal when every part is equal.
  friend bool operator==(const Url& a, const Url& b) = default;

 private:
  Url() = default;

  std::string scheme_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string path_;
  std::optional<std::string> query_;
};

}  // namespace torsion::http
