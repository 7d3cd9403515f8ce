// getPage and downloadPage on MemoryReactorClock: the body read whole, the file written
// as the body arrives with progress, and no file left by a failed download.
#include <torsion/http/get_page.hpp>

#include "client_test_support.hpp"

#include <sys/stat.h>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

using namespace torsion::http;
using torsion_test::ClientTest;
using torsion_test::watch;

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class GetPage : public ClientTest {
 protected:
  std::string path =
      ::testing::TempDir() + "torsion_download_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  void TearDown() override {
    std::remove(path.c_str());
    std::remove((path + ".part").c_str());
  }
};

TEST_F(GetPage, ReadsTheWholeBody) {
  auto page = watch(getPage(reactor, "http://a.test/index.html"));
  auto server = accept(0);
  EXPECT_EQ(take(server), "GET /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n");
  server->receive(ok("<html/>"));
  ASSERT_TRUE(page->value);
  EXPECT_EQ(page->value->code, 200);
  EXPECT_EQ(page->value->body, "<html/>");
  EXPECT_TRUE(server->disconnecting());  // its own pool closed the connection
}

TEST_F(GetPage, MethodHeadersBodyAndCap) {
  PageOptions options;
  options.method = "PUT";
  options.headers.add("X-Test", "1");
  options.body = std::make_shared<StringBodyProducer>("payload");
  options.maxBodyBytes = 4;
  auto page = watch(getPage(reactor, "http://a.test/p", options));
  auto server = accept(0);
  EXPECT_EQ(take(server), "PUT /p HTTP/1.1\r\nHost: a.test\r\nX-Test: 1\r\nContent-Length: 7\r\n\r\npayload");
  server->receive(ok("too long"));
  ASSERT_TRUE(page->failure);
  EXPECT_TRUE(page->failure->check<ResponseTooLargeError>());
}

TEST_F(GetPage, DownloadStreamsToTheFileWithProgress) {
  std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>> progress;
  auto done = watch(downloadPage(
      reactor, "http://a.test/big", path,
      [&](std::uint64_t soFar, std::optional<std::uint64_t> total) { progress.emplace_back(soFar, total); }));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
  EXPECT_TRUE(exists(path + ".part"));
  EXPECT_FALSE(exists(path));
  server->receive("456789");
  ASSERT_TRUE(done->value) << done->failure->toString();
  EXPECT_EQ(slurp(path), "0123456789");
  EXPECT_FALSE(exists(path + ".part"));
  EXPECT_TRUE(done->value->body.empty());
  using P = std::pair<std::uint64_t, std::optional<std::uint64_t>>;
  EXPECT_EQ(progress, (std::vector<P>{{4, 10}, {10, 10}}));
}

TEST_F(GetPage, ChunkedDownloadHasNoTotal) {
  std::vector<std::optional<std::uint64_t>> totals;
  auto done = watch(downloadPage(reactor, "http://a.test/c", path,
                                 [&](std::uint64_t, std::optional<std::uint64_t> total) { totals.push_back(total); }));
  accept(0)->receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(done->value);
  EXPECT_EQ(slurp(path), "abc");
  EXPECT_EQ(totals, (std::vector<std::optional<std::uint64_t>>{std::nullopt}));
}

TEST_F(GetPage, AFailedDownloadLeavesNoFile) {
  std::ofstream(path) << "an older file stays untouched";
  auto done = watch(downloadPage(reactor, "http://a.test/cut", path));
  accept(0)->receive("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
  EXPECT_TRUE(exists(path + ".part"));
  connector(0)->dropConnection();
  ASSERT_TRUE(done->failure);
  EXPECT_TRUE(done->failure->check<ResponseTruncatedError>());
  EXPECT_FALSE(exists(path + ".part"));
  EXPECT_EQ(slurp(path), "an older file stays untouched");
}

TEST_F(GetPage, ADownloadPastTheCapFailsAndLeavesNoFile) {
  PageOptions options;
  options.maxBodyBytes = 5;
  auto done = watch(downloadPage(reactor, "http://a.test/cap", path, nullptr, options));
  auto server = accept(0);
  server->receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n");
  ASSERT_TRUE(done->failure);
  EXPECT_TRUE(done->failure->check<ResponseTooLargeError>());
  EXPECT_TRUE(server->aborted());
  EXPECT_FALSE(exists(path + ".part"));
  EXPECT_FALSE(exists(path));
}

TEST_F(GetPage, ADownloadIntoAMissingDirectoryFails) {
  auto done = watch(downloadPage(reactor, "http://a.test/x", ::testing::TempDir() + "no/such/dir/file"));
  auto server = accept(0);
  server->receive(ok("x"));
  ASSERT_TRUE(done->failure);
  EXPECT_TRUE(done->failure->check<std::system_error>());
}

}  // namespace
