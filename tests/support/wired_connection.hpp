// Test support: a protocol from a factory connected to a testing::StringTransport, and a
// push producer that counts what it is told, for the wrapper and policy tests that need
// no sockets.
#pragma once

#include <torsion/address.hpp>
#include <torsion/factory.hpp>
#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>
#include <torsion/testing/clock.hpp>
#include <torsion/testing/string_transport.hpp>

#include <memory>

namespace torsion_test {

/// A push producer that counts its calls.
class RecordingProducer : public torsion::IPushProducer {
 public:
  int pauses = 0;   ///< pauseProducing calls
  int resumes = 0;  ///< resumeProducing calls
  int stops = 0;    ///< stopProducing calls
  void pauseProducing() override { ++pauses; }
  void resumeProducing() override { ++resumes; }
  void stopProducing() override { ++stops; }
};

/// A protocol a factory built, connected to its own StringTransport. Ends the connection
/// when it goes (a no-op if the test did): a wrapped protocol holds its wrapper as its
/// transport until the loss, as on a real connection.
struct Wired {
  Wired() = default;
  Wired(Wired&&) noexcept = default;
  Wired& operator=(Wired&&) noexcept = default;
  Wired(const Wired&) = delete;
  Wired& operator=(const Wired&) = delete;
  ~Wired() {
    if (transport) transport->reportConnectionLost();
  }
  std::shared_ptr<torsion::Protocol> protocol;                   ///< null if the factory refused
  std::shared_ptr<torsion::testing::StringTransport> transport;  ///< null if the factory refused
};

/// Builds a protocol from `factory` for `peer` and connects it to a new StringTransport
/// (whose host is 10.0.0.1:80) with `clock`.
inline Wired wire(torsion::Factory& factory,
                  const torsion::Address& peer = {torsion::Address::Family::ipv4, "192.168.1.1", 1000},
                  torsion::testing::Clock* clock = nullptr) {
  Wired wired;
  wired.protocol = factory.buildProtocol(peer);
  if (!wired.protocol) return wired;
  wired.transport = std::make_shared<torsion::testing::StringTransport>(
      torsion::Address{torsion::Address::Family::ipv4, "10.0.0.1", 80}, peer);
  wired.transport->setClock(clock);
  wired.transport->makeConnection(*wired.protocol);
  return wired;
}

}  // namespace torsion_test
