// Helpers shared by the framing receivers' tests.
#pragma once

#include <torsion/log.hpp>
#include <torsion/protocol.hpp>
#include <torsion/testing.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace torsion::test {

/// Captures log messages for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    log::setSink([this](log::Level, std::string_view message) { messages.emplace_back(message); });
  }
  ~LogCapture() { log::resetSink(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  bool contains(std::string_view text) const {
    for (const auto& message : messages) {
      if (message.find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::vector<std::string> messages;
};

/// Connects `protocol` to a new StringTransport.
inline std::shared_ptr<testing::StringTransport> connect(Protocol& protocol) {
  auto transport = std::make_shared<testing::StringTransport>();
  transport->makeConnection(protocol);
  return transport;
}

/// Calls protocol.dataReceived with `data` cut into pieces of `size` bytes.
inline void feed(Protocol& protocol, std::string_view data, std::size_t size) {
  for (std::size_t i = 0; i < data.size(); i += size) protocol.dataReceived(data.substr(i, size));
}

}  // namespace torsion::test
