// examples/file_server and examples/file_client for real, as processes on loopback: the
// login, the jail, resumed transfers, many clients at once and a reader that stops.
#include <gtest/gtest.h>
#include <torsion/reactor.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "crypto.hpp"
#include "raw_client.hpp"
#include "subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using file_server_test::RawClient;
using torsion_test::Subprocess;

std::string program(const char* name) {
  const char* build = std::getenv("TORSION_BUILD_DIR");
  return std::string(build ? build : ".") + "/examples/" + name + "/" + name;
}

std::string readFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string sha256Of(const fs::path& path) {
  file_transfer::Sha256 sha;
  sha.update(readFile(path));
  return sha.hexDigest();
}

void writeRandomFile(const fs::path& path, std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(random());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every entry under `dir` (symlinks not followed) with its kind, and a file's content.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> tree;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const auto& entry = *it;
    const std::string key = fs::relative(entry.path(), dir).string();
    if (entry.is_symlink()) {
      tree[key] = "link " + fs::read_symlink(entry.path()).string();
    } else if (entry.is_directory()) {
      tree[key] = "dir";
    } else {
      tree[key] = "file " + readFile(entry.path());
    }
  }
  return tree;
}

// Waits until `condition` holds, for at most `seconds`.
template <class F>
bool waitFor(F condition, double seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::uint64_t fileSize(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

// The resident set of process `pid`, in KiB.
long residentKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct ClientRun {
  std::optional<int> status;  // exit status
  std::string output;         // stdout and stderr together
};

// A server on a fresh root with users alice and bob, and a scratch directory.
class FileServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(program("file_server")) || !fs::exists(program("file_client"))) GTEST_SKIP() << "not built";
    char pattern[] = "/tmp/torsion-file-server-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    fs::create_directories(root() / "alice");
    fs::create_directories(local());
    std::ofstream(base_ / "users") << "alice:alice-secret\nbob:bob-secret\n";
    server_ =
        std::make_unique<Subprocess>(std::vector<std::string>{program("file_server"), "--root", root().string(),
                                                              "--users", (base_ / "users").string(), "--port", "0"},
                                     Subprocess::Stderr::toTestLog);
    const auto line = server_->readLine(20);
    ASSERT_TRUE(line.has_value());
    ASSERT_EQ(line->rfind("listening on 127.0.0.1:", 0), 0u) << *line;
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  }

  void TearDown() override {
    if (server_) {
      server_->terminate();
      EXPECT_EQ(server_->wait(10), 0);
    }
    if (!base_.empty()) fs::remove_all(base_);
  }

  fs::path root() const { return base_ / "root"; }
  fs::path home() const { return root() / "alice"; }
  fs::path local() const { return base_ / "local"; }

  std::vector<std::string> clientArgs(std::vector<std::string> args, const std::string& user = "alice",
                                      const std::string& secret = "alice-secret") const {
    std::vector<std::string> all = {
        program("file_client"), "--port", std::to_string(port_), "--user", user, "--secret", secret};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  ClientRun client(std::vector<std::string> args, const std::string& user = "alice",
                   const std::string& secret = "alice-secret") const {
    Subprocess process(clientArgs(std::move(args), user, secret));
    ClientRun run;
    run.output = process.readAll(30);
    run.status = process.wait(10);
    return run;
  }

  // Logs in on `raw` as alice; false if refused.
  bool login(RawClient& raw, const std::string& secret = "alice-secret") {
    const auto challenge = raw.receive();
    if (!challenge) return false;
    raw.send({{"type", "login"},
              {"user", "alice"},
              {"answer", file_transfer::loginAnswer(secret, challenge->header.at("nonce").get<std::string>())}});
    const auto answer = raw.receive();
    return answer && answer->header.at("type") == "ok";
  }

  fs::path base_;
  std::unique_ptr<Subprocess> server_;
  std::uint16_t port_ = 0;
};

TEST_F(FileServer, HelpAndBadUsage) {
  for (const char* name : {"file_server", "file_client"}) {
    Subprocess help({program(name), "--help"}, Subprocess::Stderr::toTestLog);
    EXPECT_NE(help.readAll(20).find(std::string("usage: ") + name), std::string::npos);
    EXPECT_EQ(help.wait(10), 0);
  }
  const std::vector<std::vector<std::string>> badServer = {{}, {"--root", "x"}, {"--users", "x"}, {"--port", "x"}};
  for (const auto& args : badServer) {
    std::vector<std::string> all = {program("file_server")};
    all.insert(all.end(), args.begin(), args.end());
    Subprocess process(all);
    process.readAll(20);
    EXPECT_EQ(process.wait(10), 2);
  }
  const std::vector<std::vector<std::string>> badClient = {
      {"--port", "1", "--secret", "s", "ls"},                        // no --user
      {"--user", "u", "ls"},                                         // no secret
      {"--user", "u", "--secret", "s", "--secret-file", "f", "ls"},  // both
      {"--user", "u", "--secret", "s"},                              // no command
      {"--user", "u", "--secret", "s", "frob"},                      // unknown command
      {"--user", "u", "--secret", "s", "mkdir"},                     // missing PATH
      {"--user", "u", "--secret", "s", "put", "a", "b", "c"},        // too many
      {"--user", "u", "--secret", "s", "--rate", "0", "get", "a"},   // bad rate
      {"--user", "u", "--secret", "s", "--frobnicate", "ls"},        // unknown option
  };
  for (const auto& args : badClient) {
    std::vector<std::string> all = {program("file_client")};
    all.insert(all.end(), args.begin(), args.end());
    Subprocess process(all);
    process.readAll(20);
    EXPECT_EQ(process.wait(10), 2) << args.back();
  }
}

TEST_F(FileServer, WrongSecretAndUnknownUserFailAlike) {
  const ClientRun wrong = client({"ls"}, "alice", "not-the-secret");
  EXPECT_EQ(wrong.status, 1);
  EXPECT_EQ(wrong.output, "error: authentication failed\n");
  const ClientRun unknown = client({"ls"}, "mallory", "alice-secret");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.output, wrong.output);
  EXPECT_FALSE(fs::exists(root() / "mallory"));
  const ClientRun right = client({"ls"});
  EXPECT_EQ(right.status, 0) << right.output;
}

TEST_F(FileServer, SecretFileWorksLikeSecret) {
  std::ofstream(base_ / "secret") << "alice-secret\n";
  Subprocess process({program("file_client"), "--port", std::to_string(port_), "--user", "alice", "--secret-file",
                      (base_ / "secret").string(), "mkdir", "d"});
  EXPECT_EQ(process.readAll(20), "");
  EXPECT_EQ(process.wait(10), 0);
  EXPECT_TRUE(fs::is_directory(home() / "d"));
}

TEST_F(FileServer, AReplayedLoginAnswerFails) {
  std::string captured;
  {
    RawClient first(port_);
    const auto challenge = first.receive();
    ASSERT_TRUE(challenge);
    captured = file_transfer::loginAnswer("alice-secret", challenge->header.at("nonce").get<std::string>());
    first.send({{"type", "login"}, {"user", "alice"}, {"answer", captured}});
    const auto answer = first.receive();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->header.at("type"), "ok");
  }
  RawClient second(port_);
  const auto challenge = second.receive();
  ASSERT_TRUE(challenge);
  second.send({{"type", "login"}, {"user", "alice"}, {"answer", captured}});
  const auto answer = second.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->header.at("type"), "error");
  EXPECT_EQ(answer->header.at("message"), "authentication failed");
  EXPECT_TRUE(second.closedByPeer());
}

TEST_F(FileServer, AMalformedMessageClosesOnlyThatClient) {
  RawClient other(port_);
  ASSERT_TRUE(login(other));
  for (const std::string& garbage :
       std::vector<std::string>{std::string("\0\0\0\x03\0\x01{", 7), std::string("\x7f\xff\xff\xff", 4)}) {
    RawClient bad(port_);
    ASSERT_TRUE(bad.receive());
    bad.sendRaw(garbage);
    const auto answer = bad.receive();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->header.at("type"), "error");
    EXPECT_EQ(answer->header.at("message").get<std::string>().rfind("malformed message: ", 0), 0u);
    EXPECT_TRUE(bad.closedByPeer());
  }
  other.send({{"type", "mkdir"}, {"path", "still-here"}});
  const auto answer = other.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->header.at("type"), "ok");
}

TEST_F(FileServer, EveryPathEscapeIsRefusedAndTouchesNothing) {
  fs::create_directories(root() / "bob");
  std::ofstream(root() / "bob" / "secret.txt") << "bob's secret";
  std::ofstream(base_ / "outside.txt") << "outside";
  std::ofstream(home() / "mine.txt") << "mine";
  fs::create_directory(home() / "a");
  fs::create_symlink("/", home() / "toroot");
  fs::create_symlink("../bob", home() / "tobob");
  fs::create_symlink(root() / "bob", home() / "a" / "tobobabs");
  std::ofstream(local() / "upload.txt") << "upload";
  struct stat passwd {};
  ASSERT_EQ(::stat("/etc/passwd", &passwd), 0);
  const auto before = snapshot(base_);

  const std::vector<std::string> escapes = {"..",
                                            "../x",
                                            "/etc/passwd",
                                            "toroot",
                                            "toroot/etc/passwd",
                                            "tobob",
                                            "tobob/secret.txt",
                                            "a/tobobabs/secret.txt",
                                            "a/../../b",
                                            "../bob/secret.txt",
                                            "a/../mine.txt"};
  // Every command on every path, by hand over one connection (fast), then each path once
  // through file_client, the commands taking turns: its exit status and error line.
  const std::vector<std::string> types = {"ls", "mkdir", "rm", "get", "put"};
  RawClient raw(port_);
  ASSERT_TRUE(login(raw));
  std::vector<std::string> paths = escapes;
  paths.push_back(std::string("mine.txt\0/../x", 14));  // a NUL byte cannot travel in argv
  for (const auto& path : paths) {
    for (const auto& type : types) {
      raw.send({{"type", type}, {"path", path}, {"size", 6}});
      const auto answer = raw.receive();
      ASSERT_TRUE(answer);
      EXPECT_EQ(answer->header.at("type"), "error");
      EXPECT_EQ(answer->header.value("message", ""), "permission denied: " + file_transfer::printable(path))
          << type << " " << file_transfer::printable(path);
    }
  }
  for (std::size_t i = 0; i < escapes.size(); ++i) {
    const auto& path = escapes[i];
    const std::vector<std::vector<std::string>> commands = {{"ls", path},
                                                            {"mkdir", path},
                                                            {"rm", path},
                                                            {"get", path, (local() / "got").string()},
                                                            {"put", (local() / "upload.txt").string(), path}};
    const auto& command = commands[i % commands.size()];
    const ClientRun run = client(command);
    EXPECT_EQ(run.status, 1) << command[0] << " " << path;
    EXPECT_EQ(run.output, "error: permission denied: " + path + "\n") << command[0] << " " << path;
  }
  EXPECT_EQ(snapshot(base_), before);
  struct stat passwdAfter {};
  ASSERT_EQ(::stat("/etc/passwd", &passwdAfter), 0);
  EXPECT_EQ(passwdAfter.st_mtime, passwd.st_mtime);
  EXPECT_EQ(passwdAfter.st_size, passwd.st_size);
}

TEST_F(FileServer, LsMkdirRmAndTheirErrors) {
  EXPECT_EQ(client({"mkdir", "d"}).status, 0);
  const ClientRun again = client({"mkdir", "d"});
  EXPECT_EQ(again.status, 1);
  EXPECT_EQ(again.output, "error: already exists: d\n");
  EXPECT_EQ(client({"mkdir", "missing/d"}).output, "error: no such file or directory: missing/d\n");
  std::ofstream(local() / "f") << "12345";
  EXPECT_EQ(client({"put", (local() / "f").string(), "d/f"}).status, 0);
  const ClientRun listing = client({"ls"});
  EXPECT_EQ(listing.status, 0);
  EXPECT_EQ(listing.output, "d            0 d/\n");
  EXPECT_EQ(client({"ls", "d"}).output, "-            5 f\n");
  EXPECT_EQ(client({"rm", "d"}).output, "error: directory not empty: d\n");
  EXPECT_EQ(client({"ls", "nope"}).output, "error: no such file or directory: nope\n");
  EXPECT_EQ(client({"get", "d", (local() / "x").string()}).output, "error: is a directory: d\n");
  EXPECT_FALSE(fs::exists(local() / "x.part"));
  EXPECT_EQ(client({"rm", "d/f"}).status, 0);
  EXPECT_EQ(client({"rm", "d"}).status, 0);
  EXPECT_EQ(client({"rm", "d"}).output, "error: no such file or directory: d\n");
  EXPECT_EQ(client({"ls"}).output, "");
  // The home of a user is created on first login.
  EXPECT_FALSE(fs::exists(root() / "bob"));
  EXPECT_EQ(client({"ls"}, "bob", "bob-secret").status, 0);
  EXPECT_TRUE(fs::is_directory(root() / "bob"));
}

TEST_F(FileServer, AnUploadKilledHalfwayResumesWithTheRightHash) {
  constexpr std::size_t size = 1 << 20;
  writeRandomFile(local() / "big.bin", size, 1);
  const fs::path part = home() / ".big.bin.part";
  {
    Subprocess slow(clientArgs({"--rate", "400000", "put", (local() / "big.bin").string()}));
    ASSERT_TRUE(waitFor([&] { return fileSize(part) >= 128 * 1024; }));
    slow.signal(SIGKILL);
    EXPECT_EQ(slow.wait(10), 128 + SIGKILL);
  }
  const std::uint64_t stopped = fileSize(part);
  ASSERT_LT(stopped, size);
  EXPECT_FALSE(fs::exists(home() / "big.bin"));  // only the partial name until complete
  const ClientRun resumed = client({"--resume", "put", (local() / "big.bin").string()});
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming upload at byte " + std::to_string(stopped) + " of " + std::to_string(size)),
            std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find("sha256 " + sha256Of(local() / "big.bin")), std::string::npos) << resumed.output;
  EXPECT_EQ(sha256Of(home() / "big.bin"), sha256Of(local() / "big.bin"));
  EXPECT_FALSE(fs::exists(part));
}

TEST_F(FileServer, ADownloadKilledHalfwayResumesWithTheRightHash) {
  constexpr std::size_t size = 1 << 20;
  writeRandomFile(home() / "big.bin", size, 2);
  const fs::path target = local() / "copy.bin";
  const fs::path part = local() / "copy.bin.part";
  {
    Subprocess slow(clientArgs({"--rate", "400000", "get", "big.bin", target.string()}));
    ASSERT_TRUE(waitFor([&] { return fileSize(part) >= 128 * 1024; }));
    slow.signal(SIGKILL);
    EXPECT_EQ(slow.wait(10), 128 + SIGKILL);
  }
  const std::uint64_t stopped = fileSize(part);
  ASSERT_LT(stopped, size);
  EXPECT_FALSE(fs::exists(target));
  const ClientRun resumed = client({"--resume", "get", "big.bin", target.string()});
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming download at byte " + std::to_string(stopped) + " of " + std::to_string(size)),
            std::string::npos)
      << resumed.output;
  EXPECT_EQ(sha256Of(target), sha256Of(home() / "big.bin"));
  EXPECT_FALSE(fs::exists(part));
}

TEST_F(FileServer, AWrongChecksumLeavesNoFile) {
  RawClient raw(port_);
  ASSERT_TRUE(login(raw));
  raw.send({{"type", "put"}, {"path", "x.bin"}, {"size", 3}});
  ASSERT_TRUE(raw.receive());
  raw.send({{"type", "data"}}, "abc");
  raw.send({{"type", "end"}, {"sha256", std::string(64, '0')}});
  const auto answer = raw.receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->header.at("message"), "checksum mismatch: x.bin");
  EXPECT_FALSE(fs::exists(home() / "x.bin"));
  EXPECT_FALSE(fs::exists(home() / ".x.bin.part"));
}

TEST_F(FileServer, TwentyClientsAtOnce) {
  constexpr int pairs = 10;
  for (int i = 0; i < pairs; ++i) {
    writeRandomFile(local() / ("up" + std::to_string(i)), 100000 + static_cast<std::size_t>(i) * 977, 10 + i);
    writeRandomFile(home() / ("down" + std::to_string(i)), 120000 + static_cast<std::size_t>(i) * 613, 30 + i);
  }
  std::vector<std::unique_ptr<Subprocess>> clients;
  for (int i = 0; i < pairs; ++i) {
    const std::string n = std::to_string(i);
    clients.push_back(std::make_unique<Subprocess>(clientArgs({"put", (local() / ("up" + n)).string()})));
    clients.push_back(std::make_unique<Subprocess>(clientArgs({"get", "down" + n, (local() / ("down" + n)).string()})));
  }
  for (auto& process : clients) {
    const std::string output = process->readAll(30);
    EXPECT_EQ(process->wait(10), 0) << output;
  }
  for (int i = 0; i < pairs; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(sha256Of(home() / ("up" + n)), sha256Of(local() / ("up" + n))) << n;
    EXPECT_EQ(sha256Of(local() / ("down" + n)), sha256Of(home() / ("down" + n))) << n;
  }
}

TEST_F(FileServer, AClientThatStopsReadingKeepsTheServerMemoryFlat) {
  constexpr std::uint64_t size = 64ull << 20;
  // ASan pads every block and keeps freed ones in quarantine, so the same back-pressured
  // transfer shows more resident memory there (16.3 MiB seen once). Either bound stays
  // well under the file's 64 MiB, which a server without back-pressure queues at once
  // (127 MiB of growth measured that way).
#if defined(__SANITIZE_ADDRESS__)
  constexpr long kGrowthBoundKiB = 40 * 1024;
#else
  constexpr long kGrowthBoundKiB = 16 * 1024;
#endif
  {
    std::ofstream file(home() / "huge.bin", std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size - 1));
    file.put('x');
  }
  RawClient reader(port_, 64 * 1024);
  ASSERT_TRUE(login(reader));
  const long before = residentKiB(server_->pid());
  ASSERT_GT(before, 0);
  reader.send({{"type", "get"}, {"path", "huge.bin"}});
  const auto answer = reader.receive();
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->header.at("type"), "ok");
  ASSERT_TRUE(reader.receive());  // the first chunk: the transfer is under way
  // Now the reader stops. Without back-pressure the server would queue the whole file
  // at once; with it, it holds a chunk or two, whatever the time.
  long peak = before;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < end) {
    peak = std::max(peak, residentKiB(server_->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(peak - before, kGrowthBoundKiB) << "server RSS grew from " << before << " KiB to " << peak << " KiB";
  // The server still serves others meanwhile.
  EXPECT_EQ(client({"mkdir", "other"}).status, 0);
}

// The same server on each backend built here (TORSION_REACTOR picks it): concurrent
// transfers, a listing and a refusal.
class FileServerOnBackend : public FileServer, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    ::setenv("TORSION_REACTOR", GetParam().c_str(), 1);
    FileServer::SetUp();
    ::unsetenv("TORSION_REACTOR");
  }
};

TEST_P(FileServerOnBackend, TransfersListingsAndRefusals) {
  writeRandomFile(local() / "up0", 300000, 50);
  writeRandomFile(local() / "up1", 200000, 51);
  writeRandomFile(home() / "down0", 250000, 52);
  writeRandomFile(home() / "down1", 150000, 53);
  std::vector<std::unique_ptr<Subprocess>> clients;
  for (const char* n : {"0", "1"}) {
    clients.push_back(std::make_unique<Subprocess>(clientArgs({"put", (local() / ("up" + std::string(n))).string()})));
    clients.push_back(std::make_unique<Subprocess>(
        clientArgs({"get", "down" + std::string(n), (local() / ("down" + std::string(n))).string()})));
  }
  for (auto& process : clients) {
    const std::string output = process->readAll(30);
    EXPECT_EQ(process->wait(10), 0) << output;
  }
  for (const char* n : {"0", "1"}) {
    EXPECT_EQ(sha256Of(home() / ("up" + std::string(n))), sha256Of(local() / ("up" + std::string(n))));
    EXPECT_EQ(sha256Of(local() / ("down" + std::string(n))), sha256Of(home() / ("down" + std::string(n))));
  }
  EXPECT_EQ(client({"ls"}).output,
            "-       250000 down0\n-       150000 down1\n-       300000 up0\n-       200000 up1\n");
  EXPECT_EQ(client({"get", "../alice/down0"}).output, "error: permission denied: ../alice/down0\n");
}

INSTANTIATE_TEST_SUITE_P(Backends, FileServerOnBackend, ::testing::ValuesIn(torsion::Reactor::availableBackends()),
                         [](const auto& backend) { return backend.param; });

}  // namespace
