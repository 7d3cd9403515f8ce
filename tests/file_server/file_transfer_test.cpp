// The file server's library, directly: the wire codec, the request checks, the users
// file, the crypto and the jail.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "crypto.hpp"
#include "jail.hpp"
#include "progress.hpp"
#include "request.hpp"
#include "users.hpp"
#include "wire.hpp"

namespace {

using namespace file_transfer;
namespace fs = std::filesystem;

std::string payloadWithHeader(std::string_view header, std::string_view data = {}) {
  std::string payload;
  payload.push_back(static_cast<char>(header.size() >> 8));
  payload.push_back(static_cast<char>(header.size() & 0xff));
  return payload + std::string(header) + std::string(data);
}

TEST(FileTransferWire, MessagesRoundTripWithTheirData) {
  const std::string payload = encodeMessage({{"type", "data"}}, std::string("a\0b", 3));
  const Message message = decodeMessage(payload);
  EXPECT_EQ(message.type(), "data");
  EXPECT_EQ(message.data, std::string_view("a\0b", 3));
  const std::string frame = encodeFrame({{"type", "ok"}});
  EXPECT_EQ(frame.substr(0, 4), std::string("\0\0\0", 3) + static_cast<char>(frame.size() - 4));
  EXPECT_EQ(decodeMessage(std::string_view(frame).substr(4)).type(), "ok");
}

TEST(FileTransferWire, MalformedPayloadsAreProtocolErrors) {
  const std::vector<std::string> bad = {
      "",
      "\x01",
      payloadWithHeader("{\"type\":\"ok\"}").substr(0, 5),  // header cut short
      payloadWithHeader("not json"),
      payloadWithHeader("[1,2]"),
      payloadWithHeader("{\"kind\":\"ok\"}"),
      payloadWithHeader("{\"type\":7}"),
      std::string("\xff\xff", 2) + std::string(70000, ' '),  // header over the limit
      payloadWithHeader("{\"type\":\"data\"}", std::string(kMaxData + 1, 'x')),
  };
  for (const auto& payload : bad)
    EXPECT_THROW(decodeMessage(payload), ProtocolError) << printable(payload.substr(0, 20));
  EXPECT_THROW(encodeMessage({{"type", "data"}}, std::string(kMaxData + 1, 'x')), ProtocolError);
  EXPECT_THROW(encodeMessage({{"type", std::string(kMaxHeader, 'x')}}), ProtocolError);
}

TEST(FileTransferRequest, FieldsAreCheckedByKind) {
  const auto parse = [](const nlohmann::json& header, std::string_view data = {}) {
    return parseRequest(decodeMessage(encodeMessage(header, data)));
  };
  const Request put = parse({{"type", "put"}, {"path", "a/b"}, {"size", 10}, {"resume", true}});
  EXPECT_EQ(put.kind, Request::Kind::put);
  EXPECT_EQ(put.path, "a/b");
  EXPECT_EQ(put.size, 10u);
  EXPECT_TRUE(put.resume);
  EXPECT_EQ(parse({{"type", "ls"}}).path, ".");
  EXPECT_EQ(parse({{"type", "get"}, {"path", "x"}, {"offset", 5}}).offset, 5u);
  const std::string dataPayload = encodeMessage({{"type", "data"}}, "xyz");
  EXPECT_EQ(parseRequest(decodeMessage(dataPayload)).data, "xyz");  // a view into the payload
  EXPECT_THROW(parse({{"type", "frob"}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "mkdir"}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "rm"}, {"path", 3}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "put"}, {"path", "x"}, {"size", -1}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "put"}, {"path", "x"}, {"resume", "yes"}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "get"}, {"path", std::string(kMaxPath + 1, 'a')}}), ProtocolError);
  EXPECT_THROW(parse({{"type", "ls"}}, "data after a request"), ProtocolError);
  EXPECT_THROW(parse({{"type", "login"}, {"user", "a"}}), ProtocolError);
}

TEST(FileTransferCrypto, HmacAndShaMatchPublishedVectors) {
  // RFC 4231, test case 2.
  EXPECT_EQ(loginAnswer("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Sha256 sha;
  sha.update("ab");
  sha.update("c");
  EXPECT_EQ(sha.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FileTransferCrypto, AnswersMatchOnlyTheirSecretAndNonce) {
  const std::string nonce = makeNonce();
  const std::string answer = loginAnswer("secret", nonce);
  EXPECT_TRUE(answerMatches("secret", nonce, answer));
  EXPECT_FALSE(answerMatches("Secret", nonce, answer));
  EXPECT_FALSE(answerMatches("secret", makeNonce(), answer));
  EXPECT_FALSE(answerMatches("secret", nonce, answer.substr(1)));
  EXPECT_FALSE(answerMatches("secret", nonce, ""));
  std::set<std::string> nonces;
  for (int i = 0; i < 100; ++i) nonces.insert(makeNonce());
  EXPECT_EQ(nonces.size(), 100u);
  EXPECT_EQ(nonce.size(), 64u);
}

TEST(FileTransferUsers, ParsesNamesAndSecrets) {
  const Users users = Users::parse("# comment\nalice:a:b:c\n\r\nbob:pw\r\n");
  EXPECT_EQ(users.size(), 2u);
  EXPECT_EQ(users.secretOf("alice"), "a:b:c");
  EXPECT_EQ(users.secretOf("bob"), "pw");
  EXPECT_FALSE(users.secretOf("carol"));
  for (const char* bad : {"alice", "al ice:x", "alice:", ":x", "a:1\na:2", "../x:y"}) {
    EXPECT_THROW(Users::parse(bad), std::runtime_error) << bad;
  }
  EXPECT_TRUE(validUserName("A_b-9"));
  EXPECT_FALSE(validUserName(std::string(33, 'a')));
  EXPECT_FALSE(validUserName(".."));
}

// A home with a file, a directory and symlinks leading out, next to another home.
class FileTransferJail : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/torsion-jail-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    fs::create_directories(base_ / "root" / "bob");
    std::ofstream(base_ / "root" / "bob" / "secret.txt") << "bob's";
    std::ofstream(base_ / "outside.txt") << "outside";
    root_ = UniqueFd(::open((base_ / "root").c_str(), O_RDONLY | O_DIRECTORY));
    jail_.emplace(Jail::openHome(root_.get(), "alice"));
    const fs::path home = base_ / "root" / "alice";
    std::ofstream(home / "file.txt") << "mine";
    fs::create_directory(home / "sub");
    fs::create_symlink("/", home / "toroot");
    fs::create_symlink("../bob", home / "tobob");
    fs::create_symlink(base_ / "outside.txt", home / "sub" / "out");
  }
  void TearDown() override { fs::remove_all(base_); }

  // Expects `action` to throw FileError("permission denied: PATH").
  template <class F>
  void expectDenied(const std::string& path, F action) {
    try {
      action(path);
      ADD_FAILURE() << "not refused: " << printable(path);
    } catch (const FileError& error) {
      EXPECT_EQ(std::string(error.what()), "permission denied: " + printable(path));
    }
  }

  fs::path base_;
  UniqueFd root_;
  std::optional<Jail> jail_;
};

TEST_F(FileTransferJail, SplitRefusesEscapesAndDropsDotComponents) {
  EXPECT_EQ(Jail::split("a//b/./c/"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(Jail::split(".").empty());
  EXPECT_TRUE(Jail::split("").empty());
  for (const std::string& path : std::vector<std::string>{"..", "../x", "/etc/passwd", "a/../../b", "a/..",
                                                          std::string("a\0b", 3), std::string(256, 'n')}) {
    expectDenied(path, [](const std::string& p) { (void)Jail::split(p); });
  }
}

TEST_F(FileTransferJail, SymlinksAnywhereAreRefusedByEveryOperation) {
  for (const std::string path :
       {"toroot", "toroot/etc/passwd", "tobob", "tobob/secret.txt", "sub/out", "../bob/secret.txt"}) {
    expectDenied(path, [&](const std::string& p) { (void)jail_->list(p); });
    expectDenied(path, [&](const std::string& p) { (void)jail_->openForReading(p); });
    expectDenied(path, [&](const std::string& p) { (void)jail_->beginUpload(p, false); });
    expectDenied(path, [&](const std::string& p) { jail_->makeDirectory(p); });
    expectDenied(path, [&](const std::string& p) { jail_->remove(p); });
  }
  EXPECT_TRUE(fs::exists(base_ / "root" / "bob" / "secret.txt"));
  EXPECT_TRUE(fs::is_symlink(base_ / "root" / "alice" / "tobob"));
  EXPECT_FALSE(fs::exists(base_ / "root" / "bob" / ".secret.txt.part"));
}

TEST_F(FileTransferJail, OperationsInsideTheHomeWork) {
  const auto names = [](const std::vector<DirectoryEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& entry : entries) out.push_back(std::string(1, entry.kind) + entry.name);
    return out;
  };
  EXPECT_EQ(names(jail_->list(".")), (std::vector<std::string>{"-file.txt", "dsub", "ltobob", "ltoroot"}));
  EXPECT_EQ(jail_->list("file.txt").at(0).size, 4u);
  jail_->makeDirectory("sub/new");
  EXPECT_THROW(jail_->makeDirectory("sub/new"), FileError);
  EXPECT_THROW(jail_->makeDirectory("missing/new"), FileError);
  EXPECT_THROW(jail_->remove("sub"), FileError);  // not empty
  jail_->remove("sub/new");
  EXPECT_THROW(jail_->remove("."), FileError);
  EXPECT_TRUE(jail_->openForReading("file.txt"));
  EXPECT_THROW((void)jail_->openForReading("sub"), FileError);

  auto upload = jail_->beginUpload("sub/up.bin", false);
  EXPECT_EQ(upload.offset, 0u);
  ASSERT_EQ(::write(upload.file.get(), "half", 4), 4);
  upload = jail_->beginUpload("sub/up.bin", true);
  EXPECT_EQ(upload.offset, 4u);
  EXPECT_TRUE(fs::exists(base_ / "root" / "alice" / "sub" / ".up.bin.part"));
  Jail::commitUpload(upload, "sub/up.bin");
  EXPECT_EQ(fs::file_size(base_ / "root" / "alice" / "sub" / "up.bin"), 4u);
  EXPECT_FALSE(fs::exists(base_ / "root" / "alice" / "sub" / ".up.bin.part"));
}

}  // namespace

namespace {

using file_client::Progress;

TEST(FileClientProgress, TheBarShowsBytesPercentRateAndEta) {
  const Progress progress("get x", 1 << 20, 0, true, 10.0, stdout);
  const std::string bar = progress.bar(512 * 1024, 11.0);
  EXPECT_NE(bar.find("512.0 KiB / 1.0 MiB"), std::string::npos) << bar;
  EXPECT_NE(bar.find(" 50%"), std::string::npos) << bar;
  EXPECT_NE(bar.find("512.0 KiB/s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("ETA 0:01"), std::string::npos) << bar;
  EXPECT_NE(bar.find("[###############---------------]"), std::string::npos) << bar;
}

TEST(FileClientProgress, NotATerminalGetsOnlyTheFinalLine) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Progress progress("put y", 1000, 400, false, 0.0, out);
  progress.update(700, 0.5);
  progress.finish(1000, 1.0, "abc");
  std::rewind(out);
  char text[256] = {};
  const std::size_t got = std::fread(text, 1, sizeof text - 1, out);
  std::fclose(out);
  EXPECT_EQ(std::string(text, got),
            "put y: 1000 bytes (600 transferred from byte 400) in 1.00 s, 600 B/s, sha256 abc\n");
}

}  // namespace
