// Url: strict parsing of http(s) URLs and RFC 3986 §5.2 reference resolution.
#include <torsion/http/url.hpp>

#include <arpa/inet.h>

#include <algorithm>

#include "http_chars.hpp"

namespace torsion::http {
namespace {

using detail::isAlpha;
using detail::isDigit;
using detail::isHexDigit;

bool isUnreserved(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool isSubDelim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }
bool isPathChar(char c) { return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '%' || c == '/'; }
bool isQueryChar(char c) { return isPathChar(c) || c == '?'; }

[[noreturn]] void refuse(std::string_view text, const std::string& reason) {
  throw InvalidUrlError("Invalid URL \"" + detail::printable(text) + "\": " + reason);
}

// Every byte must be one RFC 3986 allows somewhere in a URI, and every '%' must start
// a percent-escape; where each may appear is checked per component afterwards.
void checkCharacters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !isHexDigit(text[i + 1]) || !isHexDigit(text[i + 2])) {
        refuse(text, "'%' at byte " + std::to_string(i) + " is not followed by two hex digits");
      }
      continue;
    }
    if (isUnreserved(c) || isSubDelim(c) || std::string_view(":/?#[]@").find(c) != std::string_view::npos) continue;
    refuse(text, "byte " + std::to_string(i) + " (" + detail::describeByte(c) +
                     ") is not allowed in a URL (spaces, controls, non-ASCII and \"<>\\^`{|} must be "
                     "percent-encoded)");
  }
}

// The five components of a URI reference (RFC 3986 appendix B).
struct Parts {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> authority;
  std::string_view path;
  std::optional<std::string_view> query;
  std::optional<std::string_view> fragment;
};

Parts split(std::string_view text) {
  Parts parts;
  const auto colon = text.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && text[colon] == ':') {
    parts.scheme = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  if (text.substr(0, 2) == "//") {
    text.remove_prefix(2);
    const auto end = std::min(text.find_first_of("/?#"), text.size());
    parts.authority = text.substr(0, end);
    text.remove_prefix(end);
  }
  auto end = std::min(text.find_first_of("?#"), text.size());
  parts.path = text.substr(0, end);
  text.remove_prefix(end);
  if (!text.empty() && text.front() == '?') {
    text.remove_prefix(1);
    end = std::min(text.find('#'), text.size());
    parts.query = text.substr(0, end);
    text.remove_prefix(end);
  }
  if (!text.empty()) parts.fragment = text.substr(1);
  return parts;
}

// Lower-cases and checks a scheme: http and https only.
std::string checkScheme(std::string_view text, std::string_view scheme) {
  if (scheme.empty() || !isAlpha(scheme.front()) || !std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
      })) {
    refuse(text, "\"" + detail::printable(scheme) + "\" is not a valid scheme");
  }
  std::string lowered;
  for (char c : scheme) lowered += detail::lower(c);
  if (lowered != "http" && lowered != "https") {
    throw UnsupportedSchemeError("Unsupported URL scheme \"" + detail::printable(scheme) + "\" in \"" +
                                 detail::printable(text) + "\": only http and https are supported");
  }
  return lowered;
}

void checkComponent(std::string_view text, std::string_view part, bool (*allowed)(char), const char* name) {
  for (char c : part) {
    if (!allowed(c)) refuse(text, std::string(detail::describeByte(c)) + " is not allowed in the " + name);
  }
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), detail::lower);
  return out;
}

std::string checkHost(std::string_view text, std::string_view host) {
  if (host.empty()) refuse(text, "the host is empty");
  for (char c : host) {
    if (!(isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_')) {
      refuse(text, detail::describeByte(c) + " is not allowed in a host name (letters, digits, '-', '.', '_')");
    }
  }
  if (host.front() == '.' || host.find("..") != std::string_view::npos) refuse(text, "the host has an empty label");
  if (std::all_of(host.begin(), host.end(), [](char c) { return isDigit(c) || c == '.'; })) {
    in_addr address{};
    const std::string copy(host);
    if (::inet_pton(AF_INET, copy.c_str(), &address) != 1) {
      refuse(text, "\"" + copy + "\" is not a dotted IPv4 address (four numbers 0-255, no leading zeros)");
    }
  }
  return lowered(host);
}

std::uint16_t checkPort(std::string_view text, std::string_view port, std::uint16_t defaultPort) {
  if (port.empty()) return defaultPort;
  std::uint32_t value = 0;
  for (char c : port) {
    if (!isDigit(c)) refuse(text, "the port \"" + detail::printable(port) + "\" is not a number");
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) refuse(text, "the port " + std::string(port) + " is not in 1..65535");
  }
  if (value == 0) refuse(text, "the port 0 is not in 1..65535");
  return static_cast<std::uint16_t>(value);
}

// RFC 3986 §5.2.4.
std::string removeDotSegments(std::string_view input) {
  std::string output;
  while (!input.empty()) {
    if (input.substr(0, 3) == "../") {
      input.remove_prefix(3);
    } else if (input.substr(0, 2) == "./") {
      input.remove_prefix(2);
    } else if (input.substr(0, 3) == "/./") {
      input.remove_prefix(2);
    } else if (input == "/.") {
      input = "/";
    } else if (input.substr(0, 4) == "/../" || input == "/..") {
      input = input.size() == 3 ? std::string_view("/") : input.substr(3);
      const auto last = output.rfind('/');
      output.erase(last == std::string::npos ? 0 : last);
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      const auto end = std::min(input.find('/', 1), input.size());
      output.append(input.substr(0, end));
      input.remove_prefix(end);
    }
  }
  return output;
}

}  // namespace

Url Url::parse(std::string_view text) {
  checkCharacters(text);
  const Parts parts = split(text);
  if (!parts.scheme) refuse(text, "it has no scheme (an absolute http:// or https:// URL is needed)");
  Url url;
  url.scheme_ = checkScheme(text, *parts.scheme);
  if (!parts.authority) refuse(text, "it has no \"//\" and host after the scheme");
  std::string_view authority = *parts.authority;
  if (authority.find('@') != std::string_view::npos) {
    refuse(text, "user information (\"user:password@\") is not supported in URLs");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) refuse(text, "the IPv6 address has no closing ']'");
    const std::string literal(authority.substr(1, close - 1));
    in6_addr address{};
    if (::inet_pton(AF_INET6, literal.c_str(), &address) != 1) {
      refuse(text, "\"" + detail::printable(literal) +
                       "\" is not an IPv6 address (zone identifiers and IPvFuture are not supported)");
    }
    url.host_ = lowered(literal);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') refuse(text, "unexpected text after the IPv6 address");
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    const auto colon = std::min(authority.find(':'), authority.size());
    url.host_ = checkHost(text, authority.substr(0, colon));
    port = colon < authority.size() ? authority.substr(colon + 1) : std::string_view();
  }
  url.port_ = checkPort(text, port, url.defaultPort());
  checkComponent(text, parts.path, isPathChar, "path");
  url.path_ = std::string(parts.path);
  if (parts.query) {
    checkComponent(text, *parts.query, isQueryChar, "query");
    url.query_ = std::string(*parts.query);
  }
  if (parts.fragment) checkComponent(text, *parts.fragment, isQueryChar, "fragment");
  return url;
}

Url Url::resolve(std::string_view reference) const {
  checkCharacters(reference);
  const Parts ref = split(reference);
  std::string scheme = scheme_;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string_view> query = ref.query;
  if (ref.scheme) {
    scheme = checkScheme(reference, *ref.scheme);
    if (ref.authority) authority = std::string(*ref.authority);
    path = removeDotSegments(ref.path);
  } else if (ref.authority) {
    authority = std::string(*ref.authority);
    path = removeDotSegments(ref.path);
  } else {
    authority = this->authority();
    if (ref.path.empty()) {
      path = path_;
      if (!ref.query && query_) query = *query_;
    } else if (ref.path.front() == '/') {
      path = removeDotSegments(ref.path);
    } else {
      const auto firstSegment = ref.path.substr(0, ref.path.find('/'));
      if (firstSegment.find(':') != std::string_view::npos) {
        refuse(reference, "a relative path's first segment may not contain ':'");
      }
      const auto slash = path_.rfind('/');
      const std::string merged =
          (slash == std::string::npos ? std::string("/") : path_.substr(0, slash + 1)) + std::string(ref.path);
      path = removeDotSegments(merged);
    }
  }
  std::string target = scheme + ":";
  if (authority) target += "//" + *authority;
  target += path;
  if (query) target += "?" + std::string(*query);
  return parse(target);
}

std::string Url::authority() const {
  std::string text = hostIsIPv6() ? "[" + host_ + "]" : host_;
  if (port_ != defaultPort()) text += ":" + std::to_string(port_);
  return text;
}

std::string Url::requestTarget() const {
  std::string target = path_.empty() ? std::string("/") : path_;
  if (query_) target += "?" + *query_;
  return target;
}

std::string Url::toString() const {
  std::string text = scheme_ + "://" + authority() + path_;
  if (query_) text += "?" + *query_;
  return text;
}

}  // namespace torsion::http
