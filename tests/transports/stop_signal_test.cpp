// SIGINT and SIGTERM that arrive after a server announced its port but before run()
// stop it cleanly: run() returns at once, the process exits with 0 and the Unix socket
// file is removed. A real process (signal_before_run_server), on every backend.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <torsion/reactor.hpp>

#include <csignal>
#include <string>

#include "reactor_test_support.hpp"
#include "subprocess.hpp"

namespace {

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

class StopSignal : public torsion_test::BackendTest {
 protected:
  void stopsCleanly(int signal, const char* name) {
    const std::string path =
        "/tmp/torsion-signal-" + std::string(name) + "-" + GetParam() + "-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    torsion_test::Subprocess server({TORSION_SIGNAL_SERVER, path, GetParam()});
    ASSERT_TRUE(server.waitForLine("listening on", 10)) << server.output();
    ASSERT_TRUE(exists(path));
    server.signal(signal);
    const auto status = server.waitForExit(10);
    ASSERT_TRUE(status) << "still running 10 s after " << name << ":\n" << server.output();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << torsion_test::describeStatus(*status) << "\n"
                                                                 << server.output();
    EXPECT_NE(server.output().find("stopped cleanly"), std::string::npos) << server.output();
    EXPECT_FALSE(exists(path)) << "the Unix socket file was left behind";
    ::unlink(path.c_str());
  }
};

TEST_P(StopSignal, SigintBeforeRunStopsCleanly) { stopsCleanly(SIGINT, "SIGINT"); }

TEST_P(StopSignal, SigtermBeforeRunStopsCleanly) { stopsCleanly(SIGTERM, "SIGTERM"); }

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(StopSignal);

}  // namespace
