// examples/fetch run for real, as other tools will run it: its stdout lines, its exit
// status, offline, against nginx (plain, TLS, and TLS through tinyproxy with --proxy), on
// bad usage and on a refused port.
#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "nginx_server.hpp"
#include "raw_socket.hpp"
#include "subprocess.hpp"
#include "tinyproxy_server.hpp"
#include "tls_test_support.hpp"

namespace torsion_test {
namespace {

struct Run {
  int exitCode = -1;
  std::string out;  // stdout only: the contract's lines
  std::string err;
};

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs fetch with `args`, stdout and stderr apart, for at most 30 s.
Run runFetch(const std::vector<std::string>& args) {
  const auto errPath =
      std::filesystem::temp_directory_path() / ("torsion-fetch-test-" + std::to_string(::getpid()) + ".err");
  std::string command = shellQuote(TORSION_FETCH_BINARY);
  for (const auto& arg : args) command += " " + shellQuote(arg);
  command += " 2>" + shellQuote(errPath.string());
  Subprocess process({"/bin/sh", "-c", command});
  Run run;
  const auto status = process.waitForExit(30);
  EXPECT_TRUE(status.has_value()) << "fetch did not finish in 30 s: " << command;
  if (status && WIFEXITED(*status)) run.exitCode = WEXITSTATUS(*status);
  run.out = process.output();
  std::ifstream in(errPath);
  run.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(errPath);
  return run;
}

std::string sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 0xf];
  }
  return hex;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    result.push_back(text.substr(start, end - start));
  }
  return result;
}

double secondsFrom(const std::string& err, const std::string& pass) {
  std::smatch match;
  if (!std::regex_search(err, match, std::regex("fetch: " + pass + ": \\d+ URLs in ([0-9.e-]+) s"))) return -1;
  return std::stod(match[1]);
}

TEST(FetchExample, OfflineServesAndFetchesItsPagesBothWays) {
  const auto run = runFetch({"--pages", "3", "--delay-ms", "100"});
  ASSERT_EQ(run.exitCode, 0) << run.out << run.err;
  const auto got = lines(run.out);
  ASSERT_EQ(got.size(), 3u) << run.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(
        std::regex_match(got[static_cast<std::size_t>(i)],
                         std::regex("200 \\d+ [0-9a-f]{64} http://127\\.0\\.0\\.1:\\d+/page/" + std::to_string(i + 1))))
        << got[static_cast<std::size_t>(i)];
  }
  const double sequential = secondsFrom(run.err, "sequential");
  const double concurrent = secondsFrom(run.err, "concurrent");
  EXPECT_GE(sequential, 0.3) << run.err;  // three pages, each answered after 100 ms
  EXPECT_GT(concurrent, 0) << run.err;
  EXPECT_LT(concurrent, sequential) << run.err;
  EXPECT_NE(run.err.find("all at once"), std::string::npos) << "the lesson: " << run.err;
}

TEST(FetchExample, PrintsTheExactLineForAFileFromNginx) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  NginxServer nginx;
  const std::string body = NginxServer::randomBytes(1024, 7);
  nginx.writeFile("one-kib.bin", body);
  const auto url = nginx.url("/one-kib.bin");
  const auto run = runFetch({url});
  EXPECT_EQ(run.exitCode, 0) << run.err;
  EXPECT_EQ(run.out, "200 1024 " + sha256Hex(body) + " " + url + "\n");

  // --output streams it to a file named after the URL, and prints the same line.
  const auto dir = nginx.directory() / "out";
  const auto saved = runFetch({"--sequential", "--output", dir.string(), url, nginx.url("/missing")});
  EXPECT_EQ(saved.exitCode, 0) << saved.err;
  const auto got = lines(saved.out);
  ASSERT_EQ(got.size(), 2u) << saved.out;
  EXPECT_EQ(got[0], "200 1024 " + sha256Hex(body) + " " + url);
  EXPECT_TRUE(got[1].starts_with("404 ")) << got[1];
  std::ifstream in(dir / "one-kib.bin", std::ios::binary);
  EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) == body);
}

TEST(FetchExample, RefusedPortIsAnErrorLineAndExitOne) {
  const auto url = "http://127.0.0.1:" + std::to_string(unusedPort()) + "/";
  const auto run = runFetch({"--timeout", "5", url});
  EXPECT_EQ(run.exitCode, 1) << run.out << run.err;
  EXPECT_TRUE(run.out.starts_with("error " + url + ": ")) << run.out;
  EXPECT_EQ(lines(run.out).size(), 1u) << run.out;
}

TEST(FetchExample, HttpsWithCafilePrintsTheExactLine) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  const auto& certificates = TestCertificates::get();
  NginxConfig config;
  config.tls = NginxConfig::TlsFiles{certificates.path("server.pem"), certificates.path("server.key")};
  NginxServer nginx(config);
  const std::string body = NginxServer::randomBytes(1024, 8);
  nginx.writeFile("one-kib.bin", body);
  const auto url = nginx.httpsUrl("/one-kib.bin");
  const auto run = runFetch({"--cafile", certificates.path("ca.pem"), url});
  EXPECT_EQ(run.exitCode, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "200 1024 " + sha256Hex(body) + " " + url + "\n");

  // Without --cafile the system's roots do not know the test CA: an error line with the cause.
  const auto untrusted = runFetch({url});
  EXPECT_EQ(untrusted.exitCode, 1) << untrusted.out << untrusted.err;
  EXPECT_TRUE(untrusted.out.starts_with("error " + url + ": ")) << untrusted.out;
  EXPECT_NE(untrusted.out.find("certificate"), std::string::npos) << untrusted.out;
}

TEST(FetchExample, HttpsThroughAProxyWithTheProxyOption) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  const auto& certificates = TestCertificates::get();
  NginxConfig config;
  config.tls = NginxConfig::TlsFiles{certificates.path("server.pem"), certificates.path("server.key")};
  NginxServer nginx(config);
  TinyproxyServer proxy(TinyproxyConfig{{nginx.tlsPort()}, "", ""});
  const std::string body = NginxServer::randomBytes(1024, 9);
  nginx.writeFile("one-kib.bin", body);
  const auto url = nginx.httpsUrl("/one-kib.bin");
  const std::string proxyUrl = "http://127.0.0.1:" + std::to_string(proxy.port());
  const auto run = runFetch({"--cafile", certificates.path("ca.pem"), "--proxy", proxyUrl, url});
  EXPECT_EQ(run.exitCode, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "200 1024 " + sha256Hex(body) + " " + url + "\n");
  EXPECT_EQ(proxy.connectRequests("127.0.0.1:" + std::to_string(nginx.tlsPort())), 1u) << proxy.log();

  // A port the proxy does not allow: an error line naming the proxy's 403.
  const auto refusedUrl = "https://127.0.0.1:" + std::to_string(nginx.port()) + "/one-kib.bin";
  const auto refused = runFetch({"--cafile", certificates.path("ca.pem"), "--proxy", proxyUrl, refusedUrl});
  EXPECT_EQ(refused.exitCode, 1) << refused.out << refused.err;
  EXPECT_TRUE(refused.out.starts_with("error " + refusedUrl + ": ")) << refused.out;
  EXPECT_NE(refused.out.find("403"), std::string::npos) << refused.out;
}

TEST(FetchExample, BadUsageExitsTwoWithTheUsage) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--timeout"},
                                             {"--bogus", "http://127.0.0.1/"},
                                             {"--timeout", "-1", "http://127.0.0.1/"},
                                             {"--sequential", "--concurrent", "http://127.0.0.1/"},
                                             {"-H", "no colon", "http://127.0.0.1/"},
                                             {"-H", "Bad Name: x", "http://127.0.0.1/"},
                                             {"--proxy", "ftp://p:1", "http://127.0.0.1/"},
                                             {"--proxy", "", "http://127.0.0.1/"}}) {
    const auto run = runFetch(args);
    EXPECT_EQ(run.exitCode, 2) << args[0] << ": " << run.err;
    EXPECT_EQ(run.out, "") << args[0];
    EXPECT_NE(run.err.find("usage: fetch"), std::string::npos) << args[0] << ": " << run.err;
  }
  const auto help = runFetch({"--help"});
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.out.find("usage: fetch"), std::string::npos);
}

}  // namespace
}  // namespace torsion_test
