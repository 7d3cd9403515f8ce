// Interop: examples/echo_server, run as its own process on every backend, against a client
// torsion did not write (echo_client.py: Python's standard socket module only).
#include <gtest/gtest.h>
#include <torsion/reactor.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "reactor_test_support.hpp"
#include "subprocess.hpp"

namespace {

using torsion_test::Subprocess;

std::string echoServerPath() {
  const char* buildDir = std::getenv("TORSION_BUILD_DIR");
  return std::string(buildDir ? buildDir : ".") + "/examples/echo_server/echo_server";
}

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

class EchoServerInterop : public torsion_test::BackendTest {
 protected:
  void SetUp() override {
    if (!executable(echoServerPath())) GTEST_SKIP() << "no echo_server at " << echoServerPath();
  }
};

// Starts the server on a port the system picks; returns the port, or 0 with a failure.
std::uint16_t startServer(Subprocess& server) {
  // "listening on 127.0.0.1:PORT (BACKEND backend)"
  auto line = server.waitForLine("listening on", 10);
  if (!line) {
    ADD_FAILURE() << "echo_server did not start:\n" << server.output();
    return 0;
  }
  const auto colon = line->rfind(':');
  return static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
}

TEST_P(EchoServerInterop, PythonsSocketModuleGetsEveryByteBack) {
  if (isAttachedAsio()) GTEST_SKIP() << "echo_server takes a backend name; asio-attached is not one";
  Subprocess server({echoServerPath(), "--port", "0", "--interface", "127.0.0.1", "--reactor", backend()});
  const std::uint16_t port = startServer(server);
  ASSERT_NE(port, 0);
  EXPECT_NE(server.output().find("(" + backend() + " backend)"), std::string::npos) << server.output();

  std::optional<Subprocess> client;
  try {
    client.emplace(
        std::vector<std::string>{"python3", TORSION_INTEROP_DIR "/echo_client.py", "--port", std::to_string(port)});
  } catch (const std::system_error& error) {
    GTEST_SKIP() << "python3 is not available: " << error.what();
  }
  const auto status = client->waitForExit(60);
  ASSERT_TRUE(status.has_value()) << "the Python client did not finish:\n" << client->output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "python: " << torsion_test::describeStatus(*status) << "\n"
      << client->output();
  EXPECT_EQ(client->output().find("FAIL"), std::string::npos) << client->output();

  // SIGTERM stops the server cleanly (exit status 0), as its reactor owns the signals.
  server.signal(SIGTERM);
  const auto serverStatus = server.waitForExit(10);
  ASSERT_TRUE(serverStatus.has_value()) << "echo_server ignored SIGTERM:\n" << server.output();
  EXPECT_TRUE(WIFEXITED(*serverStatus) && WEXITSTATUS(*serverStatus) == 0)
      << torsion_test::describeStatus(*serverStatus) << "\n"
      << server.output();
}

TEST(EchoServerCommandLine, AnUnknownBackendIsRefusedNamingTheAvailableOnes) {
  if (!executable(echoServerPath())) GTEST_SKIP() << "no echo_server at " << echoServerPath();
  Subprocess server({echoServerPath(), "--port", "0", "--reactor", "nonesuch"});
  const auto status = server.waitForExit(10);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << torsion_test::describeStatus(*status);
  for (const auto& name : torsion::Reactor::availableBackends()) {
    EXPECT_NE(server.output().find(name), std::string::npos) << server.output();
  }
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(EchoServerInterop);
