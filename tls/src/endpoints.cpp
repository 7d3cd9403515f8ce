#include <torsion/tls/endpoints.hpp>
#include <torsion/tls/tls_factory.hpp>

#include <charconv>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tls_protocol.hpp"

namespace torsion::tls {

TLSServerEndpoint::TLSServerEndpoint(std::shared_ptr<IStreamServerEndpoint> inner, ServerTLSOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {}

Deferred<std::shared_ptr<ListeningPort>> TLSServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return inner_->listen(std::make_shared<TLSMemoryBIOFactory>(options_, std::move(factory)));
}

TLSClientEndpoint::TLSClientEndpoint(std::shared_ptr<IStreamClientEndpoint> inner, ClientTLSOptions options)
    : inner_(std::move(inner)), options_(std::move(options)) {}

Deferred<std::shared_ptr<Protocol>> TLSClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return inner_->connect(wrapClientFactory(options_, std::move(factory)))
      .addCallback([](const std::shared_ptr<Protocol>& protocol) -> std::shared_ptr<Protocol> {
        // The inner endpoint connected our TLS protocol; the caller wants its own.
        auto tls = std::dynamic_pointer_cast<detail::TlsProtocol>(protocol);
        return tls ? tls->wrappedProtocolPtr() : protocol;
      });
}

namespace {

// Twisted's grammar: fields split on unescaped colons ("\:" is a colon in a value),
// positional fields first, then key=value.
std::map<std::string, std::string> parseFields(std::string_view description, const std::vector<std::string>& positional,
                                               const std::set<std::string>& keys) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c == '\\' && i + 1 < description.size()) {
      fields.back() += description[++i];
    } else if (c == ':') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  std::map<std::string, std::string> arguments;
  std::size_t next = 0;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const auto equals = fields[i].find('=');
    std::string key;
    std::string value;
    if (equals == std::string::npos) {
      if (next >= positional.size()) {
        throw std::invalid_argument("endpoint '" + std::string(description) + "': unexpected argument '" + fields[i] +
                                    "' (use key=value)");
      }
      key = positional[next++];
      value = fields[i];
    } else {
      key = fields[i].substr(0, equals);
      value = fields[i].substr(equals + 1);
      if (!keys.count(key)) {
        throw std::invalid_argument("endpoint '" + std::string(description) + "': unknown parameter '" + key + "'");
      }
    }
    if (!arguments.emplace(key, value).second) {
      throw std::invalid_argument("endpoint '" + std::string(description) + "': '" + key + "' given twice");
    }
  }
  return arguments;
}

std::string required(const std::map<std::string, std::string>& arguments, const std::string& key,
                     std::string_view description) {
  auto found = arguments.find(key);
  if (found == arguments.end() || found->second.empty()) {
    throw std::invalid_argument("endpoint '" + std::string(description) + "': missing " + key);
  }
  return found->second;
}

std::string optional(const std::map<std::string, std::string>& arguments, const std::string& key) {
  auto found = arguments.find(key);
  return found == arguments.end() ? std::string() : found->second;
}

long long number(const std::string& text, const std::string& key, long long low, long long high) {
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw std::invalid_argument("endpoint parameter " + key + "='" + text + "' is not a whole number in " +
                                std::to_string(low) + ".." + std::to_string(high));
  }
  return value;
}

double seconds(const std::string& text, const std::string& key) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("endpoint parameter " + key + "='" + text + "' is not a positive number of seconds");
}

bool hasType(std::string_view description, std::string_view type) {
  return description.size() > type.size() && description.substr(0, type.size()) == type &&
         description[type.size()] == ':';
}

}  // namespace

std::shared_ptr<IStreamServerEndpoint> serverFromString(StreamReactors reactor, std::string_view description) {
  if (!hasType(description, "ssl")) return torsion::serverFromString(reactor, description);
  auto arguments =
      parseFields(description, {"port"}, {"port", "interface", "backlog", "privateKey", "certKey", "caCerts"});
  const auto port = static_cast<std::uint16_t>(number(required(arguments, "port", description), "port", 0, 65535));
  const std::string key = required(arguments, "privateKey", description);
  std::string certificate = optional(arguments, "certKey");
  if (certificate.empty()) certificate = key;
  const std::string backlog = optional(arguments, "backlog");
  ServerTLSSettings settings;
  if (const std::string ca = optional(arguments, "caCerts"); !ca.empty()) {
    settings.clientCertificateAuthority = TrustRoot::fromCAFile(ca);
  }
  auto inner = std::make_shared<TCPServerEndpoint>(
      reactor.tcp(), port, backlog.empty() ? 50 : static_cast<int>(number(backlog, "backlog", 0, 1 << 20)),
      optional(arguments, "interface"));
  return std::make_shared<TLSServerEndpoint>(inner, ServerTLSOptions({certificate, key}, settings));
}

std::shared_ptr<IStreamClientEndpoint> clientFromString(StreamReactors reactor, std::string_view description) {
  if (!hasType(description, "tls")) return torsion::clientFromString(reactor, description);
  auto arguments = parseFields(description, {"host", "port"},
                               {"host", "port", "timeout", "bindAddress", "trustRoots", "certificate", "privateKey"});
  const std::string host = required(arguments, "host", description);
  const auto port = static_cast<std::uint16_t>(number(required(arguments, "port", description), "port", 0, 65535));
  const std::string timeout = optional(arguments, "timeout");
  std::optional<Address> bindAddress;
  if (const std::string bind = optional(arguments, "bindAddress"); !bind.empty()) {
    bindAddress = Address{Address::Family::ipv4, bind, 0};
  }
  const std::string roots = optional(arguments, "trustRoots");
  std::optional<PrivateCertificate> clientCertificate;
  if (const std::string certificate = optional(arguments, "certificate"); !certificate.empty()) {
    const std::string key = optional(arguments, "privateKey");
    clientCertificate = PrivateCertificate{certificate, key.empty() ? certificate : key};
  }
  auto inner = std::make_shared<TCPClientEndpoint>(reactor.tcp(), host, port,
                                                   timeout.empty() ? 30 : seconds(timeout, "timeout"), bindAddress);
  return std::make_shared<TLSClientEndpoint>(
      inner, ClientTLSOptions(host, roots.empty() ? platformTrust() : TrustRoot::fromCAFile(roots), clientCertificate));
}

}  // namespace torsion::tls
