// https through the HTTP client's default ConnectFunction (tlsConnect) against nginx
// with TLS, on every backend: byte-exact bodies, verification failures that name their
// cause before any request byte leaves, an http → https redirect, and keep-alive over
// TLS proven from nginx's access log, and the credentials dropped when a redirect changes
// the scheme. Skipped when nginx is not installed.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "http_client_test_support.hpp"
#include "nginx_server.hpp"
#include "reactor_test_support.hpp"
#include "test_reactor.hpp"
#include "tls_test_support.hpp"

namespace torsion_test {
namespace {

using torsion::http::Agent;
using torsion::http::AgentOptions;
using torsion::http::PageOptions;
using torsion::http::Response;
using torsion::tls::TLSErrorKind;

constexpr std::size_t quarterMiB = 256 * 1024;

class HttpsNginxTest : public BackendTest {
 protected:
  static void SetUpTestSuite() {
    if (NginxServer::unavailableReason()) return;
    const auto& certificates = TestCertificates::get();
    NginxConfig config;
    config.tls = NginxConfig::TlsFiles{certificates.path("server.pem"), certificates.path("server.key")};
    nginx_ = new NginxServer(config);
    nginx_->writeFile("one-kib.bin", NginxServer::randomBytes(1024, 1));
    nginx_->writeFile("quarter-mib.bin", NginxServer::randomBytes(quarterMiB, 2));
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override {
    if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
    owner_ = std::make_unique<TestReactor>(backend());
  }

  torsion::Reactor& reactor() { return **owner_; }

  // Options that trust the test CA (and nothing else).
  static PageOptions trustingTheTestCA() {
    PageOptions options;
    options.agent.trustRoot = TestCertificates::get().ca();
    return options;
  }

  torsion::Result<Response> get(const std::string& url, PageOptions options = trustingTheTestCA()) {
    return waitFor(reactor(), torsion::http::getPage(reactor(), url, std::move(options)));
  }

  // The TLSError kind of a failed result (a test failure if it is not a TLSError).
  static std::optional<TLSErrorKind> tlsFailure(const torsion::Result<Response>& result) {
    if (result.ok()) {
      ADD_FAILURE() << "the request succeeded";
      return std::nullopt;
    }
    auto kind = tlsKind(result.failure());
    if (!kind) ADD_FAILURE() << "not a TLSError: " << result.failure().toString();
    return kind;
  }

  static NginxServer* nginx_;
  std::unique_ptr<TestReactor> owner_;
};

NginxServer* HttpsNginxTest::nginx_ = nullptr;

TEST_P(HttpsNginxTest, GetPageOverHttpsIsByteExact) {
  for (const char* name : {"one-kib.bin", "quarter-mib.bin"}) {
    auto result = get(nginx_->httpsUrl(std::string("/") + name));
    ASSERT_TRUE(result.ok()) << name << ": " << describeResult(result) << "\n" << nginx_->errorLog();
    EXPECT_EQ(result.value().code, 200) << name;
    const std::string expected = NginxServer::randomBytes(name[0] == 'o' ? 1024 : quarterMiB, name[0] == 'o' ? 1 : 2);
    EXPECT_EQ(result.value().body.size(), expected.size()) << name;
    EXPECT_TRUE(result.value().body == expected) << name << ": the body differs from the file";
  }
  // By host name too: SNI and a DNS-name match.
  auto byName = get(nginx_->httpsUrl("/method", "localhost"));
  ASSERT_TRUE(byName.ok()) << describeResult(byName);
  EXPECT_EQ(byName.value().body, "GET\n");
}

TEST_P(HttpsNginxTest, AnUntrustedCertificateFailsBeforeAnythingIsSent) {
  const std::size_t before = nginx_->accessLog().size();
  auto result = get(nginx_->httpsUrl("/method"), PageOptions{});  // the system's roots only
  EXPECT_EQ(tlsFailure(result), TLSErrorKind::untrustedCertificate);
  EXPECT_NE(result.failure().getErrorMessage().find("certificate"), std::string::npos)
      << result.failure().getErrorMessage();
  // nginx logs a request sent in plain text to its TLS port (400); there is none.
  EXPECT_EQ(nginx_->accessLog().size(), before);
}

TEST_P(HttpsNginxTest, AHostNameMismatchFails) {
  auto result = get(nginx_->httpsUrl("/method", "127.0.0.2"));  // the certificate is for 127.0.0.1
  EXPECT_EQ(tlsFailure(result), TLSErrorKind::hostnameMismatch);
}

TEST_P(HttpsNginxTest, AnHttpToHttpsRedirectIsFollowed) {
  auto result = get(nginx_->url("/r/https"));
  ASSERT_TRUE(result.ok()) << describeResult(result);
  EXPECT_EQ(result.value().code, 200);
  EXPECT_EQ(result.value().body, "GET\n");
  ASSERT_EQ(result.value().history.size(), 1u);
  EXPECT_EQ(result.value().history[0].code, 301);
}

TEST_P(HttpsNginxTest, AnHttpToHttpsRedirectDropsTheCredentials) {
  PageOptions options = trustingTheTestCA();
  options.headers.add("Authorization", "Bearer secret");
  options.headers.add("Cookie", "session=1");
  // The control: a same-origin redirect keeps them, and /credentials shows them.
  auto same = get(nginx_->httpsUrl("/r/credentials"), options);
  ASSERT_TRUE(same.ok()) << describeResult(same);
  EXPECT_EQ(same.value().body, "Bearer secret|session=1\n");
  // http://127.0.0.1:PORT → https://127.0.0.1:TLSPORT: another scheme (and port) is
  // another origin, so neither reaches the https server.
  auto crossed = get(nginx_->url("/r/https-credentials"), options);
  ASSERT_TRUE(crossed.ok()) << describeResult(crossed);
  EXPECT_EQ(crossed.value().body, "|\n");
  ASSERT_EQ(crossed.value().history.size(), 1u);
  EXPECT_EQ(crossed.value().history[0].code, 301);
  EXPECT_EQ(crossed.value().history[0].request.headers.get("Authorization"), "Bearer secret");
  ASSERT_TRUE(crossed.value().request);
  EXPECT_EQ(crossed.value().request->url.scheme(), "https");
  EXPECT_FALSE(crossed.value().request->headers.has("Authorization"));
  EXPECT_FALSE(crossed.value().request->headers.has("Cookie"));
}

TEST_P(HttpsNginxTest, KeepAliveReusesOneTlsConnectionAsNginxLogs) {
  const std::size_t before = nginx_->accessLog().size();
  AgentOptions options;
  options.trustRoot = TestCertificates::get().ca();
  Agent agent(reactor(), nullptr, options);
  for (int i = 0; i < 2; ++i) {
    auto result =
        waitFor(reactor(), agent.request("GET", nginx_->httpsUrl("/one-kib.bin")).addCallback(torsion::http::readBody));
    ASSERT_TRUE(result.ok()) << describeResult(result);
    ASSERT_EQ(result.value().body.size(), 1024u);
  }
  const auto log = nginx_->waitForAccessLog(before + 2);
  ASSERT_EQ(log.size(), before + 2) << nginx_->errorLog();
  EXPECT_EQ(log[before + 1].connection, log[before].connection) << "the second request came on another connection";
  EXPECT_EQ(log[before + 1].connectionRequests, 2u);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HttpsNginxTest);

}  // namespace
}  // namespace torsion_test
