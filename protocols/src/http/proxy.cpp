// ProxyConfig: which requests go through an HTTP proxy, from options or the environment.
#include <torsion/http/proxy.hpp>

#include <torsion/http/errors.hpp>

#include "http_chars.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace torsion::http {

namespace {

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = detail::lower(c);
  return out;
}

// One no_proxy entry against a host and port: "*", "host", ".domain", "host:port", "[::1]".
bool entryMatches(std::string_view entry, const Url& url) {
  if (entry == "*") return true;
  std::string_view host = entry;
  std::optional<std::uint16_t> port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (rest.size() > 1 && rest.front() == ':') rest.remove_prefix(1);
    if (!rest.empty()) {
      std::uint16_t value = 0;
      if (std::from_chars(rest.data(), rest.data() + rest.size(), value).ec != std::errc()) return false;
      port = value;
    }
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(':') == colon) {
    std::string_view digits = host.substr(colon + 1);
    std::uint16_t value = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), value).ec != std::errc()) return false;
    port = value;
    host = host.substr(0, colon);
  }
  if (port && *port != url.port()) return false;
  while (!host.empty() && host.front() == '.') host.remove_prefix(1);
  if (host.empty()) return false;
  const std::string name = lowered(host);
  const std::string& target = url.host();
  if (target == name) return true;
  return target.size() > name.size() && target.ends_with(name) && target[target.size() - name.size() - 1] == '.';
}

std::string_view environment(const char* name, const char* fallback) {
  if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
  if (fallback == nullptr) return {};
  if (const char* value = std::getenv(fallback); value != nullptr) return value;
  return {};
}

}  // namespace

bool ProxyConfig::appliesTo(const Url& url) const {
  if (std::find(schemes.begin(), schemes.end(), url.scheme()) == schemes.end()) return false;
  for (const auto& entry : noProxy) {
    if (entryMatches(entry, url)) return false;
  }
  return true;
}

std::vector<std::string> ProxyConfig::parseNoProxy(std::string_view value) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto end = value.find_first_of(", \t", start);
    std::string_view entry = value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!entry.empty()) entries.emplace_back(entry);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return entries;
}

std::optional<ProxyConfig> ProxyConfig::fromValues(std::string_view httpProxy, std::string_view noProxy) {
  httpProxy = detail::trimWhitespace(httpProxy);
  if (httpProxy.empty()) return std::nullopt;
  std::string text(httpProxy);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  const Url url = Url::parse(text);
  if (url.scheme() != "http") {
    throw InvalidUrlError("http_proxy must be an http:// URL (a proxy spoken to in plain HTTP), not \"" + text + "\"");
  }
  ProxyConfig config;
  config.host = url.host();
  config.port = url.port();
  config.noProxy = parseNoProxy(noProxy);
  config.schemes = {"http"};
  return config;
}

std::optional<ProxyConfig> ProxyConfig::fromEnvironment() {
  return fromValues(environment("http_proxy", nullptr), environment("no_proxy", "NO_PROXY"));
}

}  // namespace torsion::http
