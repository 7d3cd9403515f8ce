// Test support: the set-up most socket tests start with. A torsion server listening on
// 127.0.0.1 at a port the OS picks, clients connected to it (raw sockets or torsion
// clients), and bounded waits until the server accepted them, each failing with a
// message that says what it waited for.
//
// @code
// Built<ScriptedProtocol> servers, clients;
// torsion_test::LoopbackServer server(reactor, torsion_test::recordingFactory(servers));
// Fd peer = server.connectRaw();                             // a raw peer, or:
// server.connect(torsion_test::recordingClientFactory(clients));  // a torsion client
// ASSERT_TRUE(torsion_test::waitForConnection(reactor, servers, clients));
// @endcode
#pragma once

#include <gtest/gtest.h>
#include <torsion/factory.hpp>
#include <torsion/reactor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "raw_socket.hpp"
#include "reactor_test_support.hpp"
#include "scripted_protocols.hpp"

namespace torsion_test {

/// A torsion server on 127.0.0.1 (the OS picks the port) and the ways to reach it.
class LoopbackServer {
 public:
  /// Listens with `factory` on `reactor`, backlog 50.
  LoopbackServer(torsion::Reactor& reactor, std::shared_ptr<torsion::Factory> factory)
      : reactor_(reactor), port_(reactor.listenTCP(0, std::move(factory), 50, "127.0.0.1")) {}

  /// The listening port (to stop listening, or to ask its address).
  const std::shared_ptr<torsion::ListeningPort>& port() const noexcept { return port_; }
  /// Its port number.
  std::uint16_t portNumber() const { return port_->getHost().port; }

  /// A raw client socket connected to the server (non-blocking once connected). The
  /// kernel completes the handshake; the server accepts it when the reactor next runs.
  Fd connectRaw() const { return connectLoopback(portNumber()); }

  /// Connects a torsion client built by `factory` (`timeout` seconds to connect, from
  /// `bindAddress` if given).
  std::shared_ptr<torsion::Connector> connect(std::shared_ptr<torsion::ClientFactory> factory, double timeout = 5,
                                              std::optional<torsion::Address> bindAddress = std::nullopt) const {
    return reactor_.connectTCP("127.0.0.1", portNumber(), std::move(factory), timeout, std::move(bindAddress));
  }

 private:
  torsion::Reactor& reactor_;
  std::shared_ptr<torsion::ListeningPort> port_;
};

/// Runs `reactor` until `servers` holds `count` protocols, each past connectionMade.
template <class S>
::testing::AssertionResult waitForAccepts(torsion::Reactor& reactor, const Built<S>& servers, std::size_t count = 1,
                                          double timeoutSeconds = 5) {
  return runUntil(
      reactor,
      [&] {
        if (servers.size() < count) return false;
        for (std::size_t i = 0; i < servers.size(); ++i)
          if (!servers[i].made()) return false;
        return true;
      },
      timeoutSeconds, std::to_string(count) + " accepted connection(s) past connectionMade");
}

/// Runs `reactor` until both ends of one connection ran connectionMade: the first of
/// `servers` and the first of `clients`.
template <class S, class C>
::testing::AssertionResult waitForConnection(torsion::Reactor& reactor, const Built<S>& servers,
                                             const Built<C>& clients, double timeoutSeconds = 5) {
  return runUntil(
      reactor, [&] { return servers.size() >= 1 && servers[0].made() && clients.size() >= 1 && clients[0].made(); },
      timeoutSeconds, "both ends' connectionMade");
}

}  // namespace torsion_test
