// examples/framing_echo as a program: its usage, its errors and its exit codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace {

using torsion_test::Subprocess;

std::string framingEcho() {
  const char* build = std::getenv("TORSION_BUILD_DIR");
  return std::string(build ? build : ".") + "/examples/framing_echo/framing_echo";
}

class FramingEchoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(framingEcho())) GTEST_SKIP() << framingEcho() << " is not built";
  }
  // Runs framing_echo with `args` to completion: its exit status and standard output.
  std::pair<std::optional<int>, std::string> run(std::vector<std::string> args) {
    args.insert(args.begin(), framingEcho());
    Subprocess process(args, Subprocess::Stderr::toTestLog);
    std::string out = process.readAll(20);
    return {process.wait(10), out};
  }
};

TEST_F(FramingEchoCli, HelpPrintsTheUsageAndSucceeds) {
  auto [status, out] = run({"--help"});
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("usage: framing_echo"), std::string::npos);
  for (const char* option : {"--framing", "--port", "--reactor", "--max-length", "--interface"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
}

TEST_F(FramingEchoCli, BadArgumentsExitWithTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--framing", "int64"}, {"--port", "70000"}, {"--port", "x"},  {"--reactor", "nope"},
      {"--max-length", "-1"}, {"--max-length"},    {"--frobnicate"},
  };
  for (const auto& args : bad) EXPECT_EQ(run(args).first, 2) << args.front();
}

TEST_F(FramingEchoCli, ListensOnTheRequestedBackendAndStopsCleanlyOnSigterm) {
  for (const char* backend : {"poll", "select"}) {
    Subprocess process({framingEcho(), "--port", "0", "--reactor", backend, "--framing", "netstring"},
                       Subprocess::Stderr::toTestLog);
    const auto line = process.readLine(20);
    ASSERT_TRUE(line.has_value()) << backend;
    EXPECT_EQ(line->rfind("listening on 127.0.0.1:", 0), 0u) << *line;
    process.terminate();
    EXPECT_EQ(process.wait(10), 0) << backend;
  }
}

TEST_F(FramingEchoCli, AnAddressInUseIsAClearErrorNotACrash) {
  Subprocess first({framingEcho(), "--port", "0"}, Subprocess::Stderr::toTestLog);
  const auto line = first.readLine(20);
  ASSERT_TRUE(line.has_value());
  const std::string port = line->substr(line->rfind(':') + 1);
  auto [status, out] = run({"--port", port});
  EXPECT_EQ(status, 1);
  first.terminate();
  EXPECT_EQ(first.wait(10), 0);
}

}  // namespace
