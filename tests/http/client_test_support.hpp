// Test support for the HTTP client on MemoryReactorClock: play the server side of the
// connections an Agent opens, and watch Deferreds.
#pragma once

#include <torsion/http/client.hpp>
#include <torsion/testing.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace torsion_test {

/// Where a Deferred got to.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::optional<torsion::Failure> failure;
  bool fired() const { return value.has_value() || failure.has_value(); }
};

/// Records the outcome of `d` (which it ends).
template <class T>
std::shared_ptr<Outcome<T>> watch(torsion::Deferred<T> d) {
  auto outcome = std::make_shared<Outcome<T>>();
  d.addBoth([outcome](torsion::Result<T>&& r) {
    if (r.failed()) {
      outcome->failure = r.failure();
    } else {
      outcome->value = std::move(r).value();
    }
  });
  return outcome;
}

/// A MemoryReactorClock and helpers to play the servers.
class ClientTest : public ::testing::Test {
 protected:
  torsion::testing::MemoryReactorClock reactor;

  /// The connector of the n-th connection attempt.
  std::shared_ptr<torsion::testing::MemoryConnector> connector(std::size_t n) {
    EXPECT_LT(n, reactor.connectors.size());
    return n < reactor.connectors.size() ? reactor.connectors[n] : nullptr;
  }
  /// Completes the n-th connection attempt; returns the server end's transport.
  std::shared_ptr<torsion::testing::StringTransport> accept(std::size_t n) {
    return connector(n)->completeConnection();
  }
  /// What the client wrote on `transport` since the last take.
  static std::string take(const std::shared_ptr<torsion::testing::StringTransport>& transport) {
    std::string written = transport->value();
    transport->clear();
    return written;
  }
  /// A 200 response with `body` and Content-Length.
  static std::string ok(const std::string& body, const std::string& extraHeaders = "") {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extraHeaders + "\r\n" + body;
  }
};

}  // namespace torsion_test
