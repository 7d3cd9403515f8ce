// examples/echo_server, as its own process on every backend, receives SIGTERM while 50
// clients are echoing through it: it runs its shutdown trigger, closes every connection
// (each client sees the end of the stream) and exits with status 0.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <torsion/reactor.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "raw_socket.hpp"
#include "reactor_test_support.hpp"
#include "subprocess.hpp"

namespace {

using torsion_test::Fd;
using torsion_test::Subprocess;

std::string serverPath() {
  const char* buildDir = std::getenv("TORSION_BUILD_DIR");
  return std::string(buildDir ? buildDir : ".") + "/examples/echo_server/echo_server";
}

class SigtermUnderLoad : public torsion_test::BackendTest {
 protected:
  void SetUp() override {
    if (::access(serverPath().c_str(), X_OK) != 0) GTEST_SKIP() << "no echo_server at " << serverPath();
    if (isAttachedAsio()) GTEST_SKIP() << "echo_server takes a backend name; asio-attached is not one";
  }
};

TEST_P(SigtermUnderLoad, StopsCleanlyClosingEveryConnectionAndRunningTheShutdownTrigger) {
  constexpr int kClients = 50;
  Subprocess server({serverPath(), "--port", "0", "--interface", "127.0.0.1", "--reactor", backend()});
  auto line = server.waitForLine("listening on", 10);
  ASSERT_TRUE(line) << server.output();
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));

  std::vector<Fd> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(torsion_test::connectLoopback(port));
  const std::string chunk = torsion_test::patternBytes(16 * 1024, 5);
  // A few rounds of echo on every connection, so that all are made and busy.
  for (int round = 0; round < 3; ++round) {
    for (auto& client : clients) torsion_test::sendAll(client.get(), chunk);
    for (auto& client : clients) {
      std::string echoed;
      const double deadline = torsion_test::now() + 5;
      while (echoed.size() < chunk.size() && torsion_test::now() < deadline) {
        ASSERT_TRUE(torsion_test::drain(client.get(), echoed)) << "the server closed early";
        if (echoed.size() < chunk.size()) {
          pollfd entry{client.get(), POLLIN, 0};
          ::poll(&entry, 1, 50);
        }
      }
      ASSERT_EQ(echoed, chunk);
    }
  }
  // Data in flight on every connection when the signal arrives.
  for (auto& client : clients) ::send(client.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
  server.signal(SIGTERM);
  const auto status = server.waitForExit(10);
  ASSERT_TRUE(status.has_value()) << "echo_server ignored SIGTERM:\n" << server.output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << torsion_test::describeStatus(*status) << "\n"
                                                               << server.output();
  EXPECT_NE(server.output().find("shutting down with " + std::to_string(kClients) + " connections open"),
            std::string::npos)
      << server.output();
  EXPECT_NE(server.output().find("stopped: 0 connections open"), std::string::npos) << server.output();
  for (auto& client : clients) {
    std::string rest;
    const double deadline = torsion_test::now() + 5;
    while (torsion_test::drain(client.get(), rest) && torsion_test::now() < deadline) {
      pollfd entry{client.get(), POLLIN, 0};
      ::poll(&entry, 1, 50);
    }
    EXPECT_GE(torsion_test::endOfStream(client.get()), 0) << "a connection was left open";
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(SigtermUnderLoad);
