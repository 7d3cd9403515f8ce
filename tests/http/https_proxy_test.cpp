// https through a real HTTP proxy (Debian's tinyproxy) with CONNECT, in front of nginx
// with TLS, on every backend: the tunnel carries verified TLS to the target (its name,
// not the proxy's), keep-alive reuses the tunnel, and a proxy that refuses (403 for a
// port it does not allow, 407 without credentials) is a ProxyConnectError naming the
// status. tinyproxy is required (scripts/packages.txt installs it): missing, the suite
// fails. Without nginx it skips, as the other nginx suites do.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "http_client_test_support.hpp"
#include "nginx_server.hpp"
#include "reactor_test_support.hpp"
#include "test_reactor.hpp"
#include "tinyproxy_server.hpp"
#include "tls_test_support.hpp"

namespace torsion_test {
namespace {

using torsion::http::Agent;
using torsion::http::AgentOptions;
using torsion::http::PageOptions;
using torsion::http::ProxyConfig;
using torsion::http::ProxyConnectError;
using torsion::http::Response;

constexpr std::size_t quarterMiB = 256 * 1024;
// "user:secret" in Base64, what tinyproxy's BasicAuth line below asks for.
constexpr const char* credentials = "Basic dXNlcjpzZWNyZXQ=";

class HttpsProxyTest : public BackendTest {
 protected:
  static void SetUpTestSuite() {
    if (NginxServer::unavailableReason()) return;
    const auto& certificates = TestCertificates::get();
    NginxConfig config;
    config.tls = NginxConfig::TlsFiles{certificates.path("server.pem"), certificates.path("server.key")};
    nginx_ = new NginxServer(config);
    nginx_->writeFile("quarter-mib.bin", NginxServer::randomBytes(quarterMiB, 2));
    // Only nginx's TLS port may be reached through the tunnel.
    proxy_ = new TinyproxyServer(TinyproxyConfig{{nginx_->tlsPort()}, "user", "secret"});
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override {
    if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
    ASSERT_NE(proxy_, nullptr);
    owner_ = std::make_unique<TestReactor>(backend());
  }

  torsion::Reactor& reactor() { return **owner_; }

  // Through the proxy with the credentials (or `authorization`), trusting the test CA.
  static AgentOptions throughTheProxy(std::string authorization = credentials) {
    AgentOptions options;
    options.trustRoot = TestCertificates::get().ca();
    ProxyConfig proxy;
    proxy.host = "127.0.0.1";
    proxy.port = proxy_->port();
    proxy.authorization = std::move(authorization);
    options.proxy = proxy;
    return options;
  }

  torsion::Result<Response> get(const std::string& url, AgentOptions options = throughTheProxy()) {
    PageOptions page;
    page.agent = std::move(options);
    return waitFor(reactor(), torsion::http::getPage(reactor(), url, std::move(page)));
  }

  // The ProxyConnectError of a failed result (a test failure if it is something else).
  static const ProxyConnectError* proxyFailure(const torsion::Result<Response>& result) {
    if (result.ok()) {
      ADD_FAILURE() << "the request succeeded";
      return nullptr;
    }
    auto* error = result.failure().value<ProxyConnectError>();
    if (!error) ADD_FAILURE() << "not a ProxyConnectError: " << result.failure().toString();
    return error;
  }

  std::string tlsTarget() const { return "127.0.0.1:" + std::to_string(nginx_->tlsPort()); }

  static NginxServer* nginx_;
  static TinyproxyServer* proxy_;
  std::unique_ptr<TestReactor> owner_;
};

NginxServer* HttpsProxyTest::nginx_ = nullptr;
TinyproxyServer* HttpsProxyTest::proxy_ = nullptr;

TEST_P(HttpsProxyTest, GetPageThroughTheTunnelIsByteExact) {
  const std::size_t tunnelsBefore = proxy_->connectRequests(tlsTarget());
  const std::size_t logBefore = nginx_->accessLog().size();
  auto result = get(nginx_->httpsUrl("/quarter-mib.bin"));
  ASSERT_TRUE(result.ok()) << describeResult(result) << "\n" << proxy_->log();
  EXPECT_EQ(result.value().code, 200);
  const std::string expected = NginxServer::randomBytes(quarterMiB, 2);
  EXPECT_EQ(result.value().body.size(), expected.size());
  EXPECT_TRUE(result.value().body == expected) << "the body differs from the file";
  // It went through the proxy (one CONNECT to nginx's TLS port), and nginx got an
  // origin-form request over TLS (an absolute-form one, or plain text, would not be 200).
  EXPECT_EQ(proxy_->connectRequests(tlsTarget()), tunnelsBefore + 1) << proxy_->log();
  const auto log = nginx_->waitForAccessLog(logBefore + 1);
  ASSERT_EQ(log.size(), logBefore + 1) << nginx_->errorLog();
  EXPECT_EQ(log.back().uri, "/quarter-mib.bin");
  EXPECT_EQ(log.back().status, 200);
}

TEST_P(HttpsProxyTest, KeepAliveReusesTheTunnel) {
  const std::size_t tunnelsBefore = proxy_->connectRequests(tlsTarget());
  const std::size_t logBefore = nginx_->accessLog().size();
  Agent agent(reactor(), nullptr, throughTheProxy());
  for (int i = 0; i < 2; ++i) {
    auto result =
        waitFor(reactor(), agent.request("GET", nginx_->httpsUrl("/method")).addCallback(torsion::http::readBody));
    ASSERT_TRUE(result.ok()) << describeResult(result);
    EXPECT_EQ(result.value().body, "GET\n");
  }
  EXPECT_EQ(proxy_->connectRequests(tlsTarget()), tunnelsBefore + 1) << "the second request opened another tunnel";
  const auto log = nginx_->waitForAccessLog(logBefore + 2);
  ASSERT_EQ(log.size(), logBefore + 2) << nginx_->errorLog();
  EXPECT_EQ(log[logBefore + 1].connection, log[logBefore].connection);
  EXPECT_EQ(log[logBefore + 1].connectionRequests, 2u);
}

TEST_P(HttpsProxyTest, APortTheProxyRefusesIsAProxyConnectErrorNaming403) {
  // nginx's plain port is not a ConnectPort of the proxy.
  const std::string url = "https://127.0.0.1:" + std::to_string(nginx_->port()) + "/method";
  auto result = get(url);
  const auto* error = proxyFailure(result);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code(), 403);
  EXPECT_NE(std::string(error->what()).find("403"), std::string::npos) << error->what();
  EXPECT_NE(std::string(error->what()).find("127.0.0.1:" + std::to_string(nginx_->port())), std::string::npos)
      << error->what();
}

TEST_P(HttpsProxyTest, WithoutCredentialsTheProxyAnswers407) {
  auto result = get(nginx_->httpsUrl("/method"), throughTheProxy(""));
  const auto* error = proxyFailure(result);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code(), 407);
  EXPECT_NE(std::string(error->what()).find("407"), std::string::npos) << error->what();
}

TEST_P(HttpsProxyTest, TheTunnelIsVerifiedAgainstTheTargetsName) {
  // By name: the proxy resolves "localhost"; the certificate's DNS name matches.
  auto byName = get(nginx_->httpsUrl("/method", "localhost"));
  ASSERT_TRUE(byName.ok()) << describeResult(byName);
  EXPECT_EQ(byName.value().body, "GET\n");
  // 127.0.0.2 reaches the same nginx, whose certificate does not name it: the tunnel
  // opens, the TLS verification inside it fails on the target's name.
  const std::size_t tunnelsBefore = proxy_->connectRequests("127.0.0.2:" + std::to_string(nginx_->tlsPort()));
  auto result = get(nginx_->httpsUrl("/method", "127.0.0.2"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(tlsKind(result.failure()), torsion::tls::TLSErrorKind::hostnameMismatch) << result.failure().toString();
  EXPECT_EQ(proxy_->connectRequests("127.0.0.2:" + std::to_string(nginx_->tlsPort())), tunnelsBefore + 1);
}

TEST_P(HttpsProxyTest, NoProxyGoesDirect) {
  AgentOptions options = throughTheProxy();
  options.proxy->noProxy = {"127.0.0.1"};
  const std::size_t tunnelsBefore = proxy_->connectRequests(tlsTarget());
  auto result = get(nginx_->httpsUrl("/method"), options);
  ASSERT_TRUE(result.ok()) << describeResult(result);
  EXPECT_EQ(proxy_->connectRequests(tlsTarget()), tunnelsBefore);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(HttpsProxyTest);

}  // namespace
}  // namespace torsion_test
