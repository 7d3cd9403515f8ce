// Wire compatibility with Twisted itself: Twisted's LineReceiver, Int16StringReceiver,
// Int32StringReceiver and NetstringReceiver (Debian's python3-twisted) against torsion's,
// in both directions, with messages that straddle reads and messages at the size limits.
#include <torsion/protocols/basic.hpp>
#include <torsion/reactor.hpp>
#include <torsion/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "reactor_test_support.hpp"
#include "subprocess.hpp"

namespace {

using torsion::Bytes;
using torsion_test::Subprocess;
namespace protocols = torsion::protocols;

const char* const kPython = "/usr/bin/python3";  // the one that sees python3-twisted

std::string peerScript() { return std::string(TORSION_SOURCE_DIR) + "/tests/interop/twisted_framing_peer.py"; }

std::string framingEcho() {
  const char* build = std::getenv("TORSION_BUILD_DIR");
  return std::string(build ? build : ".") + "/examples/framing_echo/framing_echo";
}

bool twistedAvailable() {
  static const bool available = [] {
    if (!std::filesystem::exists(kPython)) return false;
    Subprocess probe({kPython, "-c", "import twisted.protocols.basic; print('yes')"}, Subprocess::Stderr::toTestLog);
    return probe.readAll(30) == "yes\n" && probe.wait(10) == 0;
  }();
  return available;
}

// The port in "listening on 127.0.0.1:PORT", or 0.
int portFrom(const std::optional<std::string>& line) {
  std::smatch match;
  static const std::regex pattern(R"(listening on 127\.0\.0\.1:(\d+))");
  if (!line || !std::regex_search(*line, match, pattern)) return 0;
  return std::stoi(match[1]);
}

// The longest message both sides accept: MAX_LENGTH, or less where the prefix is narrower.
std::size_t limitOf(const std::string& framing, std::size_t maxLength) {
  return framing == "int16" ? std::min<std::size_t>(maxLength, 0xffff) : maxLength;
}

std::size_t defaultMaxLength(const std::string& framing) { return framing == "line" ? 16384 : 99999; }

// ---------------------------------------------------------------- torsion as the client

struct ClientRecord {
  std::vector<std::string> got;
  bool made = false;
  bool lost = false;
};

// A receiver of each framing that records what it gets and can send a message.
class Framed {
 public:
  virtual ~Framed() = default;
  virtual void send(Bytes message) = 0;
  virtual torsion::Protocol& protocol() = 0;
};

template <class Receiver>
class Recording : public Receiver, public Framed {
 public:
  template <class... Args>
  explicit Recording(ClientRecord* sink, Args... args) : Receiver(args...), record_(sink) {}
  void connectionMade() override {
    this->transport().setTcpNoDelay(true);
    if (record_) record_->made = true;
  }
  void connectionLost(const torsion::Failure&) override {
    if (record_) record_->lost = true;
  }
  torsion::Protocol& protocol() override { return *this; }

 protected:
  void record(Bytes message) {
    if (record_) record_->got.emplace_back(message);
  }

 private:
  ClientRecord* record_;
};

class LineClient : public Recording<protocols::LineReceiver> {
 public:
  using Recording::Recording;
  void lineReceived(Bytes line) override { record(line); }
  void send(Bytes message) override { sendLine(message); }
};

class PrefixClient : public Recording<protocols::IntNStringReceiver> {
 public:
  using Recording::Recording;
  void stringReceived(Bytes message) override { record(message); }
  void send(Bytes message) override { sendString(message); }
};

class NetstringClient : public Recording<protocols::NetstringReceiver> {
 public:
  using Recording::Recording;
  void stringReceived(Bytes message) override { record(message); }
  void send(Bytes message) override { sendString(message); }
};

std::shared_ptr<Framed> makeClient(const std::string& framing, ClientRecord* record) {
  if (framing == "line") return std::make_shared<LineClient>(record);
  if (framing == "netstring") return std::make_shared<NetstringClient>(record);
  return std::make_shared<PrefixClient>(record, std::size_t{framing == "int16" ? 2u : 4u});
}

// The bytes torsion's own sendLine / sendString produce for `message`.
std::string frame(const std::string& framing, Bytes message) {
  auto encoder = makeClient(framing, nullptr);
  auto transport = std::make_shared<torsion::testing::StringTransport>();
  transport->makeConnection(encoder->protocol());
  encoder->send(message);
  return transport->value();
}

class TwistedFramingTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!twistedAvailable()) GTEST_SKIP() << kPython << " cannot import twisted (install python3-twisted)";
  }
  const std::string& framing() const { return GetParam(); }

  // Starts Twisted's echo server; returns its port (0 on failure).
  int startTwistedServer(std::unique_ptr<Subprocess>& server) {
    server = std::make_unique<Subprocess>(
        std::vector<std::string>{kPython, peerScript(), "server", "--framing", framing(), "--lifetime", "120"},
        Subprocess::Stderr::toTestLog);
    return portFrom(server->readLine(30));
  }

  // Connects a torsion client to Twisted's echo server, runs `writes` (each its own
  // write, 20 ms apart, so that messages straddle reads), and runs until `done`.
  template <class Done>
  ::testing::AssertionResult exchange(const std::vector<std::string>& writes, ClientRecord& record, Done&& done) {
    std::unique_ptr<Subprocess> server;
    const int port = startTwistedServer(server);
    if (port == 0) return ::testing::AssertionFailure() << "Twisted's server did not start";
    torsion::Reactor reactor;
    auto client = makeClient(framing(), &record);
    auto factory = std::make_shared<torsion::ClientFactory>();
    // Weakly: the protocol will point back at its factory.
    factory->protocol = [weak = std::weak_ptr<Framed>(client)] {
      auto built = weak.lock();
      return built ? std::shared_ptr<torsion::Protocol>(built, &built->protocol()) : nullptr;
    };
    reactor.connectTCP("127.0.0.1", static_cast<std::uint16_t>(port), factory);
    auto made = torsion_test::runUntil(
        reactor, [&] { return record.made; }, 20, "the connection");
    if (!made) return made;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      reactor.callLater(0.02 * static_cast<double>(i), [client, chunk = writes[i]] {
        if (client->protocol().connected()) client->protocol().transport().write(chunk);
      });
    }
    auto result = torsion_test::runUntil(reactor, done, 30, "the echoes");
    if (client->protocol().connected()) client->protocol().transport().loseConnection();
    torsion_test::runUntil(
        reactor, [&] { return record.lost; }, 10, "the close");
    return result;
  }
};

std::vector<std::string> echoMessages(const std::string& framing, std::size_t limit) {
  std::vector<std::string> messages = {"", "a", "hello world", std::string("\0\xff\r \n binary", 13),
                                       std::string(1000, 'x')};
  if (framing != "line") messages.push_back("\r\n,:0123");
  messages.push_back(std::string(limit - 1, 'm'));
  messages.push_back(std::string(limit, 'y'));
  messages.push_back("after");
  return messages;
}

TEST_P(TwistedFramingTest, TorsionClientTwistedServerEcho) {
  const auto messages = echoMessages(framing(), limitOf(framing(), defaultMaxLength(framing())));
  std::vector<std::string> writes(1);
  for (std::size_t i = 0; i + 3 < messages.size(); ++i) writes[0] += frame(framing(), messages[i]);
  for (std::size_t i = messages.size() - 3; i < messages.size(); ++i) {
    const std::string bytes = frame(framing(), messages[i]);
    const std::size_t cuts[] = {0, 1, 3, bytes.size() / 2, bytes.size()};
    for (std::size_t c = 0; c + 1 < std::size(cuts); ++c) {
      if (cuts[c] < cuts[c + 1]) writes.push_back(bytes.substr(cuts[c], cuts[c + 1] - cuts[c]));
    }
  }
  ClientRecord record;
  ASSERT_TRUE(exchange(writes, record, [&] { return record.got.size() >= messages.size() || record.lost; }));
  EXPECT_EQ(record.got, messages);
}

TEST_P(TwistedFramingTest, TorsionClientTwistedServerRefusesOversize) {
  if (framing() == "int16") GTEST_SKIP() << "a 2-byte prefix cannot announce more than Twisted's MAX_LENGTH";
  const std::size_t limit = defaultMaxLength(framing());
  ClientRecord record;
  ASSERT_TRUE(exchange({frame(framing(), "before"), frame(framing(), std::string(limit + 1, 'z'))}, record,
                       [&] { return record.lost; }));
  EXPECT_EQ(record.got, std::vector<std::string>{"before"});
}

// ---------------------------------------------------------------- torsion as the server

class TorsionServer {
 public:
  TorsionServer(const std::string& framing, std::optional<std::size_t> maxLength) {
    std::vector<std::string> argv = {framingEcho(), "--port", "0", "--framing", framing};
    if (maxLength) argv.insert(argv.end(), {"--max-length", std::to_string(*maxLength)});
    process = std::make_unique<Subprocess>(argv, Subprocess::Stderr::toTestLog);
    port = portFrom(process->readLine(20));
  }
  ~TorsionServer() { stop(); }
  TorsionServer(const TorsionServer&) = delete;
  TorsionServer& operator=(const TorsionServer&) = delete;

  /// Stops the server with SIGTERM; its exit status (0 after a clean shutdown, also
  /// under the sanitizers), or nothing if it did not exit.
  std::optional<int> stop() {
    if (!status) {
      process->terminate();
      status = process->wait(10);
    }
    return *status;
  }

  std::unique_ptr<Subprocess> process;
  int port = 0;
  std::optional<std::optional<int>> status;
};

// Runs Twisted's checking client against `port`; its report ("OK" or what failed).
std::string runTwistedClient(const std::string& framing, int port, const std::string& scenario,
                             std::optional<std::size_t> maxLength) {
  std::vector<std::string> argv = {kPython,  peerScript(),         "client",     "--framing", framing,
                                   "--port", std::to_string(port), "--scenario", scenario,    "--lifetime",
                                   "60"};
  if (maxLength) argv.insert(argv.end(), {"--max-length", std::to_string(*maxLength)});
  Subprocess client(argv, Subprocess::Stderr::toTestLog);
  std::string report = client.readAll(90);
  const auto status = client.wait(10);
  if (!status) return "the Twisted client did not finish: " + report;
  if (*status != 0) return "the Twisted client exited with " + std::to_string(*status) + ": " + report;
  return report;
}

class TorsionServerTest : public TwistedFramingTest {
 protected:
  void SetUp() override {
    TwistedFramingTest::SetUp();
    if (IsSkipped()) return;
    if (!std::filesystem::exists(framingEcho())) GTEST_SKIP() << framingEcho() << " is not built";
  }
};

TEST_P(TorsionServerTest, TwistedClientTorsionServerEcho) {
  TorsionServer server(framing(), std::nullopt);
  ASSERT_NE(server.port, 0) << "framing_echo did not start";
  EXPECT_EQ(runTwistedClient(framing(), server.port, "echo", std::nullopt), "OK\n");
  EXPECT_EQ(server.stop(), 0);
}

TEST_P(TorsionServerTest, TwistedClientTorsionServerEchoWithASmallLimit) {
  TorsionServer server(framing(), 100);
  ASSERT_NE(server.port, 0) << "framing_echo did not start";
  EXPECT_EQ(runTwistedClient(framing(), server.port, "echo", 100), "OK\n");
  EXPECT_EQ(server.stop(), 0);
}

TEST_P(TorsionServerTest, TwistedClientTorsionServerRefusesOversize) {
  if (framing() == "int16") GTEST_SKIP() << "a 2-byte prefix cannot announce more than 99999";
  for (std::optional<std::size_t> maxLength : {std::optional<std::size_t>(), std::optional<std::size_t>(100)}) {
    TorsionServer server(framing(), maxLength);
    ASSERT_NE(server.port, 0) << "framing_echo did not start";
    EXPECT_EQ(runTwistedClient(framing(), server.port, "oversize", maxLength), "OK\n");
    EXPECT_EQ(server.stop(), 0);
  }
}

// A test of the test: a client expecting a larger limit than the server's must fail.
TEST_P(TorsionServerTest, TheTwistedClientNoticesAMismatch) {
  TorsionServer server(framing(), 50);
  ASSERT_NE(server.port, 0) << "framing_echo did not start";
  EXPECT_NE(runTwistedClient(framing(), server.port, "echo", 100), "OK\n");
}

const auto kFramings = ::testing::Values("line", "int16", "int32", "netstring");
std::string nameOf(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Framings, TwistedFramingTest, kFramings, nameOf);
INSTANTIATE_TEST_SUITE_P(Framings, TorsionServerTest, kFramings, nameOf);

}  // namespace
