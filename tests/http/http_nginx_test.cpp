// The HTTP client against a real nginx (Debian's nginx-light), on every backend: static
// files byte-exact, gzip (which nginx sends chunked), keep-alive reuse proven from
// nginx's own access log, 404, redirect chains, and downloadPage with progress. Skipped
// when nginx is not installed.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "http_client_test_support.hpp"
#include "nginx_server.hpp"
#include "reactor_test_support.hpp"

namespace torsion_test {
namespace {

using torsion::http::Agent;
using torsion::http::AgentOptions;
using torsion::http::PageOptions;
using torsion::http::Response;

constexpr std::size_t tenMiB = 10 * 1024 * 1024;

// One nginx for the whole suite (its files written once); each test reads the access
// log from where it was when the test began.
class HttpNginxTest : public BackendTest {
 protected:
  static void SetUpTestSuite() {
    if (NginxServer::unavailableReason()) return;
    nginx_ = new NginxServer();
    nginx_->writeFile("empty.bin", "");
    nginx_->writeFile("one-kib.bin", NginxServer::randomBytes(1024, 1));
    nginx_->writeFile("text.txt", text());
  }
  // The 10 MiB file, written on first use: CTest runs each test in a process of its own.
  static void needTenMiB() {
    if (!std::filesystem::exists(nginx_->root() / "ten-mib.bin")) {
      nginx_->writeFile("ten-mib.bin", NginxServer::randomBytes(tenMiB, 2));
    }
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override {
    if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
    owner_ = std::make_unique<torsion_test::TestReactor>(backend());
    reactor_ = &**owner_;
  }

  // 200 KiB of text that compresses well, as text/plain (gzipped by the fixture).
  static std::string text() {
    std::string text;
    for (int i = 0; text.size() < 200 * 1024; ++i) text += "line " + std::to_string(i) + " of a compressible page\n";
    return text;
  }

  static std::string fileContent(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string content(std::filesystem::file_size(path), '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    return content;
  }

  torsion::Result<Response> get(const std::string& path, PageOptions options = {}) {
    return waitFor(*reactor_, torsion::http::getPage(*reactor_, nginx_->url(path), std::move(options)));
  }

  static NginxServer* nginx_;
  std::unique_ptr<torsion_test::TestReactor> owner_;
  torsion::Reactor* reactor_ = nullptr;
};

NginxServer* HttpNginxTest::nginx_ = nullptr;

TEST_P(HttpNginxTest, StaticFilesAreByteExact) {
  needTenMiB();
  PageOptions options;
  options.maxBodyBytes = tenMiB;
  for (const char* name : {"empty.bin", "one-kib.bin", "ten-mib.bin"}) {
    auto result = get(std::string("/") + name, options);
    ASSERT_TRUE(result.ok()) << name << ": " << describeResult(result);
    const std::string expected = fileContent(nginx_->root() / name);
    EXPECT_EQ(result.value().code, 200) << name;
    EXPECT_EQ(result.value().body.size(), expected.size()) << name;
    EXPECT_TRUE(result.value().body == expected) << name << ": the body differs from the file";
    EXPECT_EQ(result.value().length, expected.size()) << name;
  }
}

TEST_P(HttpNginxTest, GzipIsDecodedFromAChunkedResponse) {
  // Undecoded first: nginx gzips text/plain and, not knowing the compressed length in
  // advance, sends it chunked.
  PageOptions raw;
  raw.headers.add("Accept-Encoding", "gzip");
  auto compressed = get("/text.txt", raw);
  ASSERT_TRUE(compressed.ok()) << describeResult(compressed);
  EXPECT_EQ(compressed.value().headers.get("Content-Encoding"), "gzip");
  EXPECT_EQ(compressed.value().headers.get("Transfer-Encoding"), "chunked");
  ASSERT_GE(compressed.value().body.size(), 2u);
  EXPECT_EQ(compressed.value().body.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(compressed.value().body.size(), text().size() / 4);

  PageOptions decoded;
  decoded.agent.decompress = true;
  auto page = get("/text.txt", decoded);
  ASSERT_TRUE(page.ok()) << describeResult(page);
  EXPECT_EQ(page.value().code, 200);
  EXPECT_TRUE(page.value().body == text()) << "decoded " << page.value().body.size() << " bytes";
  EXPECT_FALSE(page.value().headers.has("Content-Encoding"));
}

TEST_P(HttpNginxTest, KeepAliveReusesOneConnectionAsNginxLogs) {
  const std::size_t before = nginx_->accessLog().size();
  Agent agent(*reactor_);
  for (int i = 0; i < 3; ++i) {
    auto result =
        waitFor(*reactor_, agent.request("GET", nginx_->url("/one-kib.bin")).addCallback(torsion::http::readBody));
    ASSERT_TRUE(result.ok()) << describeResult(result);
    ASSERT_EQ(result.value().body.size(), 1024u);
  }
  const auto log = nginx_->waitForAccessLog(before + 3);
  ASSERT_EQ(log.size(), before + 3) << nginx_->errorLog();
  const auto& first = log[before];
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(log[before + i].connection, first.connection) << "request " << i << " came on another connection";
    EXPECT_EQ(log[before + i].connectionRequests, i + 1) << "request " << i;
    EXPECT_EQ(log[before + i].uri, "/one-kib.bin");
  }
}

TEST_P(HttpNginxTest, NotFoundIsAResponse) {
  auto result = get("/no-such-file");
  ASSERT_TRUE(result.ok()) << describeResult(result);
  EXPECT_EQ(result.value().code, 404);
  EXPECT_EQ(result.value().phrase, "Not Found");
  EXPECT_NE(result.value().body.find("404 Not Found"), std::string::npos) << result.value().body;
}

TEST_P(HttpNginxTest, RedirectChainIsFollowedWithItsHistory) {
  auto result = get("/r/301");
  ASSERT_TRUE(result.ok()) << describeResult(result);
  const Response& page = result.value();
  EXPECT_EQ(page.code, 200);
  EXPECT_EQ(page.body, "GET\n");
  ASSERT_EQ(page.history.size(), 5u);
  const int codes[] = {301, 302, 303, 307, 308};
  const char* paths[] = {"/r/301", "/r/302", "/r/303", "/r/307", "/r/308"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(page.history[i].code, codes[i]);
    EXPECT_EQ(page.history[i].request.url.path(), paths[i]);
  }
  ASSERT_TRUE(page.request.has_value());
  EXPECT_EQ(page.request->url.path(), "/method");
}

TEST_P(HttpNginxTest, RedirectsFollowTheMethodRules) {
  // 307 and 308 keep POST and its body; 301 turns POST into GET (as browsers do), and so
  // does 303 for the rest of the chain.
  PageOptions post;
  post.method = "POST";
  post.body = std::make_shared<torsion::http::StringBodyProducer>("a body");
  auto kept = get("/r/307", post);
  ASSERT_TRUE(kept.ok()) << describeResult(kept);
  EXPECT_EQ(kept.value().body, "POST\n");
  EXPECT_EQ(kept.value().history.size(), 2u);

  auto turned = get("/r/301", post);
  ASSERT_TRUE(turned.ok()) << describeResult(turned);
  EXPECT_EQ(turned.value().body, "GET\n");
  ASSERT_EQ(turned.value().history.size(), 5u);
  EXPECT_EQ(turned.value().history[0].request.method, "POST");
  EXPECT_EQ(turned.value().history[1].request.method, "GET");
}

TEST_P(HttpNginxTest, RedirectLoopsLimitsAndOtherSchemesAreErrors) {
  EXPECT_TRUE(failedWith<torsion::http::RedirectLoopError>(get("/r/loop-a")));
  EXPECT_TRUE(failedWith<torsion::http::UnsupportedSchemeError>(get("/r/ftp")));
  PageOptions limited;
  limited.agent.redirectLimit = 2;
  EXPECT_TRUE(failedWith<torsion::http::RedirectLimitError>(get("/r/301", limited)));
  PageOptions unfollowed;
  unfollowed.agent.followRedirects = false;
  auto first = get("/r/301", unfollowed);
  ASSERT_TRUE(first.ok()) << describeResult(first);
  EXPECT_EQ(first.value().code, 301);
  EXPECT_TRUE(first.value().headers.get("Location").value_or("").ends_with("/r/302"));
}

TEST_P(HttpNginxTest, DownloadPageStreamsTenMebibytesWithProgress) {
  needTenMiB();
  const auto path = nginx_->directory() / ("download-" + backend() + ".bin");
  std::vector<std::uint64_t> soFar;
  std::optional<std::uint64_t> total;
  PageOptions options;
  options.maxBodyBytes = tenMiB;
  auto result = waitFor(*reactor_, torsion::http::downloadPage(
                                       *reactor_, nginx_->url("/ten-mib.bin"), path.string(),
                                       [&](std::uint64_t bytes, std::optional<std::uint64_t> announced) {
                                         soFar.push_back(bytes);
                                         total = announced;
                                       },
                                       options));
  ASSERT_TRUE(result.ok()) << describeResult(result);
  EXPECT_EQ(result.value().code, 200);
  EXPECT_TRUE(result.value().body.empty()) << "downloadPage must not hold the body";
  ASSERT_FALSE(soFar.empty());
  EXPECT_GT(soFar.size(), 1u) << "progress is reported as the body arrives";
  EXPECT_TRUE(std::is_sorted(soFar.begin(), soFar.end()));
  EXPECT_EQ(soFar.back(), tenMiB);
  EXPECT_EQ(total, tenMiB);
  EXPECT_TRUE(fileContent(path) == fileContent(nginx_->root() / "ten-mib.bin")) << "the file differs";
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".part"));
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HttpNginxTest);

}  // namespace
}  // namespace torsion_test
