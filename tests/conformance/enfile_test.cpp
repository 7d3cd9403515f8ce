// Conformance: the system-wide descriptor table is full (ENFILE) while accepting and
// while connecting, on every backend: no busy loop, the listener recovers by itself, a
// connect fails its factory clearly.
//
// A shared machine's table cannot be filled for real, so the fault is injected at the
// syscall boundary: each test runs itself again in a child process with
// tests/support/enfile_shim.c preloaded (LD_PRELOAD), which makes socket(), accept() and
// accept4() fail with ENFILE while a control file exists. The child does the work; the
// parent checks that it passed.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "conformance_names.hpp"
#include "subprocess.hpp"

namespace {

constexpr const char* kControl = "TORSION_ENFILE_CONTROL";
constexpr const char* kEnfileText = "Too many open files in system";

// In the parent: runs the current test again in a child with the shim preloaded, checks
// that it passed there, and returns true. In that child: returns false, and the test
// body goes on to do the work.
bool ranInChildWithTheShim() {
  if (std::getenv(kControl) != nullptr) return false;
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter = std::string(test->test_suite_name()) + "." + test->name();
  char folder[] = "/tmp/torsion-enfile-XXXXXX";
  if (::mkdtemp(folder) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return true;
  }
  // The shim is not built with the sanitizers, so it comes before their runtime in the
  // list of libraries, which ASan would otherwise refuse.
  std::string asan = "ASAN_OPTIONS=";
  if (const char* options = std::getenv("ASAN_OPTIONS")) asan += std::string(options) + ":";
  asan += "verify_asan_link_order=0";
  const std::string control = std::string(folder) + "/table-full";
  torsion_test::Subprocess child(
      {"/proc/self/exe", "--gtest_filter=" + filter}, torsion_test::Subprocess::Stderr::withOutput,
      {std::string("LD_PRELOAD=") + TORSION_ENFILE_SHIM, std::string(kControl) + "=" + control, asan});
  const auto code = child.wait(90);
  const std::string output = child.output();
  ::unlink((control + ".socket").c_str());
  ::unlink((control + ".accept").c_str());
  ::rmdir(folder);
  EXPECT_EQ(code, 0) << "the child with the shim:\n" << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << "the child ran no test:\n" << output;
  return true;
}

// In the child: the table is "full" for `call` (socket or accept) while this lives.
class TableFull {
 public:
  explicit TableFull(const char* call) : path_(std::string(std::getenv(kControl)) + "." + call) {
    const int fd = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) torsion_test::throwErrno("open control file");
    ::close(fd);
  }
  ~TableFull() { free(); }
  TableFull(const TableFull&) = delete;
  TableFull& operator=(const TableFull&) = delete;
  void free() { ::unlink(path_.c_str()); }

 private:
  std::string path_;
};

class EnfileFault : public BackendTest {
 protected:
  void SetUp() override {
    if (std::getenv(kControl) != nullptr) {
      // Without the shim the child would pass without any fault: refuse that.
      failures_ = static_cast<long*>(::dlsym(RTLD_DEFAULT, "torsion_enfile_failures"));
      ASSERT_NE(failures_, nullptr) << "the ENFILE shim is not loaded";
    }
  }
  // How many calls the shim has failed with ENFILE so far.
  long injected() const { return __atomic_load_n(failures_, __ATOMIC_RELAXED); }

 private:
  long* failures_ = nullptr;
};

TEST_P(EnfileFault, AcceptingNeitherSpinsNorStopsTheServerAndLosesNoWaitingClient) {
  if (ranInChildWithTheShim()) return;
  constexpr int kWaitingClients = 4;
  torsion_test::LogCapture log;
  Built<ScriptedProtocol> servers;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto echo = [](ScriptedProtocol& p) {
    p.onData = [](ScriptedProtocol& self, torsion::Bytes data) { self.transport().write(data); };
  };
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers, echo), 64, "127.0.0.1");
  const auto number = port->getHost().port;

  TableFull full("accept");
  std::vector<Fd> waiting;
  for (int i = 0; i < kWaitingClients; ++i) {
    waiting.push_back(torsion_test::connectLoopback(number));  // completes in the backlog
    torsion_test::sendAll(waiting.back().get(), "client " + std::to_string(i));
  }
  const torsion_test::SpinCheck spin;
  torsion_test::runFor(reactor, 0.5);
  EXPECT_TRUE(spin.slept());
  // The CPU bound alone misses a spin on a busy machine, where the process gets a
  // fraction of a core: count the attempts. Pausing 0.1 s after each failure (two calls:
  // accept4 and the reserve's accept) makes about 10 in 0.5 s; a busy loop makes
  // thousands.
  EXPECT_GT(injected(), 0);
  EXPECT_LE(injected(), 40) << "accept() was retried in a busy loop";
  EXPECT_TRUE(log.contains(kEnfileText)) << "accept() should have met ENFILE:\n" << log.all();
  EXPECT_TRUE(port->listening());
  EXPECT_EQ(servers.size(), 0u);

  // Room again: the listener resumes by itself, serves the clients that waited in the
  // backlog (the shim failed the reserve descriptor's accept too, so none was dropped)
  // and a new one.
  full.free();
  waiting.push_back(torsion_test::connectLoopback(number));
  torsion_test::sendAll(waiting.back().get(), "client " + std::to_string(kWaitingClients));
  std::vector<std::string> echoed(waiting.size());
  ASSERT_TRUE(runUntil(
      reactor,
      [&] {
        bool all = true;
        for (std::size_t i = 0; i < waiting.size(); ++i) {
          torsion_test::drain(waiting[i].get(), echoed[i]);
          all = all && echoed[i] == "client " + std::to_string(i);
        }
        return all;
      },
      5, "every client served once the table has room"));
}

TEST_P(EnfileFault, ConnectingFailsTheFactoryClearlyAndWorksOnceThereIsRoom) {
  if (ranInChildWithTheShim()) return;
  Built<ScriptedProtocol> servers;
  Built<ScriptedProtocol> clients;
  auto owner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *owner;
  auto port = reactor.listenTCP(0, torsion_test::recordingFactory<ScriptedProtocol>(servers), 64, "127.0.0.1");
  const auto number = port->getHost().port;
  auto factory = torsion_test::recordingClientFactory<ScriptedProtocol>(clients);

  TableFull full("socket");
  const torsion_test::SpinCheck spin;
  reactor.connectTCP("127.0.0.1", number, factory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return factory->finished(); }, 5, "the failed connect"));
  torsion_test::runFor(reactor, 0.2);  // nothing retries or spins afterwards
  EXPECT_TRUE(spin.slept());
  EXPECT_EQ(injected(), 1) << "socket() should have been tried once, and not retried";
  EXPECT_EQ(factory->failedCount, 1);
  ASSERT_TRUE(factory->failReason);
  EXPECT_TRUE(factory->failReason->check<torsion::ConnectError>()) << factory->failReason->toString();
  EXPECT_NE(factory->failReason->toString().find(kEnfileText), std::string::npos) << factory->failReason->toString();
  EXPECT_EQ(clients.size(), 0u);

  full.free();
  reactor.connectTCP("127.0.0.1", number, factory);
  ASSERT_TRUE(runUntil(
      reactor, [&] { return clients.size() == 1 && clients[0].made(); }, 5, "a connect once there is room"));
}

}  // namespace

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(EnfileFault);
