#include "endpoint_description.hpp"

#include <charconv>
#include <set>
#include <stdexcept>

namespace torsion::detail {

namespace {

struct Grammar {
  std::vector<std::string> positional;  // names given to positional arguments, in order
  std::set<std::string> keys;           // every accepted key
  std::vector<std::string> required;
};

const Grammar& grammarFor(const std::string& type, bool server, std::string_view description) {
  static const Grammar tcpServer{{"port"}, {"port", "interface", "backlog"}, {"port"}};
  static const Grammar unixServer{{"address"}, {"address", "backlog", "mode", "lockfile"}, {"address"}};
  static const Grammar tcpClient{{"host", "port"}, {"host", "port", "timeout", "bindAddress"}, {"host", "port"}};
  static const Grammar unixClient{{"path"}, {"path", "timeout", "checkPID"}, {"path"}};
  if (type == "tcp") return server ? tcpServer : tcpClient;
  if (type == "unix") return server ? unixServer : unixClient;
  throw std::invalid_argument("endpoint '" + std::string(description) + "': unknown endpoint type '" + type +
                              "' (known: tcp, unix)");
}

// Splits on unescaped colons; "\:" stands for a colon inside a value, "\\" for a backslash.
std::vector<std::string> splitFields(std::string_view description) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < description.size(); ++i) {
    char c = description[i];
    if (c == '\\' && i + 1 < description.size()) {
      fields.back() += description[++i];
    } else if (c == ':') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

EndpointDescription parse(std::string_view description, bool server) {
  const std::string kind = server ? "server" : "client";
  if (description.empty()) throw std::invalid_argument("empty " + kind + " endpoint description");
  auto fields = splitFields(description);
  EndpointDescription result;
  result.type = fields.front();
  const Grammar& grammar = grammarFor(result.type, server, description);
  std::size_t nextPositional = 0;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const std::string& field = fields[i];
    auto equals = field.find('=');
    std::string key;
    std::string value;
    if (equals == std::string::npos) {
      if (nextPositional >= grammar.positional.size()) {
        throw std::invalid_argument("endpoint '" + std::string(description) + "': unexpected argument '" + field +
                                    "' (use key=value)");
      }
      key = grammar.positional[nextPositional++];
      value = field;
    } else {
      key = field.substr(0, equals);
      value = field.substr(equals + 1);
      if (!grammar.keys.count(key)) {
        std::string known;
        for (const auto& k : grammar.keys) known += (known.empty() ? "" : ", ") + k;
        throw std::invalid_argument("endpoint '" + std::string(description) + "': unknown parameter '" + key +
                                    "' for a " + result.type + " " + kind + " endpoint (known: " + known + ")");
      }
    }
    if (result.arguments.count(key)) {
      throw std::invalid_argument("endpoint '" + std::string(description) + "': '" + key + "' given twice");
    }
    result.arguments[key] = value;
  }
  for (const auto& key : grammar.required) {
    if (!result.arguments.count(key) || result.arguments[key].empty()) {
      throw std::invalid_argument("endpoint '" + std::string(description) + "': missing " + key);
    }
  }
  return result;
}

long long wholeNumber(const EndpointDescription& d, const std::string& key, long long low, long long high) {
  const std::string& text = d.arguments.at(key);
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw std::invalid_argument("endpoint parameter " + key + "='" + text + "' is not a whole number in " +
                                std::to_string(low) + ".." + std::to_string(high));
  }
  return value;
}

}  // namespace

EndpointDescription parseServerEndpoint(std::string_view description) { return parse(description, true); }

EndpointDescription parseClientEndpoint(std::string_view description) { return parse(description, false); }

std::uint16_t endpointPort(const EndpointDescription& d, const std::string& key) {
  return static_cast<std::uint16_t>(wholeNumber(d, key, 0, 65535));
}

double endpointSeconds(const EndpointDescription& d, const std::string& key, double fallback) {
  auto found = d.arguments.find(key);
  if (found == d.arguments.end()) return fallback;
  try {
    std::size_t used = 0;
    double value = std::stod(found->second, &used);
    if (used == found->second.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("endpoint parameter " + key + "='" + found->second +
                              "' is not a positive number of seconds");
}

int endpointCount(const EndpointDescription& d, const std::string& key, int fallback) {
  if (!d.arguments.count(key)) return fallback;
  return static_cast<int>(wholeNumber(d, key, 0, 1 << 20));
}

}  // namespace torsion::detail
