// torsion's TLS against real peers on every backend: openssl s_server and s_client, and
// nginx (skipped with a reason when it is not installed). Each peer is started by the
// test on a free loopback port and killed at the end.
#include <sys/socket.h>
#include <unistd.h>

#include <torsion/tls.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "raw_socket.hpp"
#include "subprocess.hpp"
#include "tls_names.hpp"

namespace {

using torsion_test::Subprocess;

class TlsInteropTest : public torsion_test::BackendTest {};

// Starts `openssl s_server` on a free port (retrying if another process took it first).
std::unique_ptr<Subprocess> startSServer(std::uint16_t& port, const std::vector<std::string>& extra) {
  const auto& certificates = TestCertificates::get();
  for (int attempt = 0; attempt < 5; ++attempt) {
    port = torsion_test::unusedPort();
    std::vector<std::string> argv{"openssl",  "s_server",
                                  "-accept",  "127.0.0.1:" + std::to_string(port),
                                  "-cert",    certificates.path("server.pem"),
                                  "-key",     certificates.path("server.key"),
                                  "-naccept", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = std::make_unique<Subprocess>(argv);
    if (server->waitForLine("ACCEPT", 10)) return server;
  }
  return nullptr;
}

TEST_P(TlsInteropTest, ClientTalksToOpensslSServer) {
  std::uint16_t port = 0;
  auto server = startSServer(port, {"-rev"});
  ASSERT_TRUE(server) << "openssl s_server did not start";
  Seen client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  tls::connectSSL(reactor, "127.0.0.1", port,
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(client), false, "hello torsion\n"),
                  clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.received.find("noisrot olleh") != std::string::npos; }, 10,
      "s_server's reversed line"))
      << server->output();
  EXPECT_TRUE(client.handshake);
}

// A server that greets and closes with close_notify.
class Greeter : public torsion::Protocol {
 public:
  void connectionMade() override {
    transport().write("hello from torsion\n");
    transport().loseConnection();
  }
};

// Runs `openssl s_client` against a torsion server; returns its output once it exits.
std::string runSClient(torsion::Reactor& reactor, std::uint16_t port, const std::vector<std::string>& extra) {
  const auto& certificates = TestCertificates::get();
  std::vector<std::string> argv{"openssl",
                                "s_client",
                                "-connect",
                                "127.0.0.1:" + std::to_string(port),
                                "-CAfile",
                                certificates.path("ca.pem"),
                                "-verify_hostname",
                                "localhost",
                                "-verify_return_error",
                                "-ign_eof"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Subprocess client(argv);
  std::optional<int> status;
  EXPECT_TRUE(runUntil(
      reactor, [&] { return (status = client.waitForExit(0)).has_value(); }, 10, "s_client to exit"));
  return client.output();
}

TEST_P(TlsInteropTest, OpensslSClientVerifiesTheServer) {
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Greeter>(), serverOptions(), 50, "127.0.0.1");
  const std::string output = runSClient(reactor, port->getHost().port, {});
  EXPECT_NE(output.find("hello from torsion"), std::string::npos) << output;
  EXPECT_NE(output.find("Verify return code: 0 (ok)"), std::string::npos) << output;
}

TEST_P(TlsInteropTest, NoSharedVersionWithOpensslSClientIsNamed) {
  // (s_server, asked for a version it lacks, resets without an alert; s_client is the
  // peer that offers only TLS 1.2 here.)
  Seen server;
  tls::ServerTLSSettings settings;
  settings.minimumVersion = tls::TLSVersion::tls1_3;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(server)),
                             serverOptions(settings), 50, "127.0.0.1");
  const std::string output = runSClient(reactor, port->getHost().port, {"-tls1_2"});
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.lost.has_value(); }, 10, "the refusal"));
  EXPECT_EQ(tlsKind(*server.lost), tls::TLSErrorKind::noSharedVersion) << server.lost->toString();
  EXPECT_NE(server.lost->getErrorMessage().find("unsupported protocol"), std::string::npos)
      << server.lost->getErrorMessage();
  EXPECT_NE(output.find("alert protocol version"), std::string::npos) << output;
}

// Connects a torsion client with `settings` to `server` (on `port`) and returns how it
// was refused.
torsion::Failure refusalFrom(const std::string& backend, Subprocess& server, std::uint16_t port,
                             const tls::ClientTLSSettings& settings) {
  Seen client;
  auto reactorOwner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *reactorOwner;
  tls::connectSSL(reactor, "127.0.0.1", port,
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(client), false, "secret"),
                  clientOptions("localhost", {}, settings));
  EXPECT_TRUE(runUntil(
      reactor, [&] { return client.lost.has_value(); }, 10, "the refusal"))
      << server.output();
  EXPECT_FALSE(client.handshake);
  return client.lost.value_or(torsion::Failure(torsion::ConnectionDone()));
}

// (Each s_server below runs with -rev, which serves without reading stdin: in its default
// mode it quits at once when stdin is at its end.)

// s_server offers no TLS 1.3 suite the client accepts: it finds no shared cipher and
// sends handshake_failure. The client reports that alert, not a cause it cannot know.
TEST_P(TlsInteropTest, AHandshakeFailureAlertFromOpensslSServerIsReportedAsTheAlert) {
  std::uint16_t port = 0;
  auto server = startSServer(port, {"-rev", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"});
  ASSERT_TRUE(server) << "openssl s_server did not start";
  tls::ClientTLSSettings settings;
  settings.tls13CipherSuites = "TLS_CHACHA20_POLY1305_SHA256";
  const torsion::Failure lost = refusalFrom(backend(), *server, port, settings);
  EXPECT_EQ(tlsKind(lost), tls::TLSErrorKind::handshakeFailed) << lost.toString();
  const std::string message = lost.getErrorMessage();
  EXPECT_NE(message.find("the peer sent the alert 'handshake failure' (40)"), std::string::npos) << message;
  EXPECT_EQ(message.find("no shared cipher"), std::string::npos) << message;
  ASSERT_TRUE(server->waitForExit(10).has_value());
  EXPECT_NE(server->output().find("no shared cipher"), std::string::npos) << server->output();
}

// The same alert with another cause: s_server (TLS 1.2) requires a client certificate
// and the client has none. Before, this was reported as "no shared cipher".
TEST_P(TlsInteropTest, AHandshakeFailureAlertForAMissingClientCertificateNamesNoCipher) {
  std::uint16_t port = 0;
  auto server =
      startSServer(port, {"-rev", "-tls1_2", "-Verify", "1", "-CAfile", TestCertificates::get().path("ca.pem")});
  ASSERT_TRUE(server) << "openssl s_server did not start";
  tls::ClientTLSSettings settings;
  settings.maximumVersion = tls::TLSVersion::tls1_2;
  const torsion::Failure lost = refusalFrom(backend(), *server, port, settings);
  EXPECT_EQ(tlsKind(lost), tls::TLSErrorKind::handshakeFailed) << lost.toString();
  const std::string message = lost.getErrorMessage();
  EXPECT_NE(message.find("the peer sent the alert 'handshake failure' (40)"), std::string::npos) << message;
  EXPECT_EQ(message.find("cipher"), std::string::npos) << message;
  ASSERT_TRUE(server->waitForExit(10).has_value());
  EXPECT_NE(server->output().find("peer did not return a certificate"), std::string::npos) << server->output();
}

// The other direction: s_client offers only a suite the torsion server does not take.
// The server found the cause itself and names it; s_client got the alert.
TEST_P(TlsInteropTest, NoSharedCipherWithOpensslSClientIsNamedByTheServer) {
  Seen server;
  tls::ServerTLSSettings settings;
  settings.tls13CipherSuites = "TLS_AES_128_GCM_SHA256";
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port = tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Recorder>(std::ref(server)),
                             serverOptions(settings), 50, "127.0.0.1");
  const std::string output =
      runSClient(reactor, port->getHost().port, {"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"});
  ASSERT_TRUE(runUntil(
      reactor, [&] { return server.lost.has_value(); }, 10, "the refusal"));
  EXPECT_EQ(tlsKind(*server.lost), tls::TLSErrorKind::noSharedCipher) << server.lost->toString();
  EXPECT_NE(server.lost->getErrorMessage().find("no shared cipher"), std::string::npos)
      << server.lost->getErrorMessage();
  EXPECT_NE(output.find("alert handshake failure"), std::string::npos) << output;
}

TEST_P(TlsInteropTest, MutualTlsWithOpensslSClient) {
  tls::ServerTLSSettings settings;
  settings.clientCertificateAuthority = TestCertificates::get().ca();
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  auto port =
      tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<Greeter>(), serverOptions(settings), 50, "127.0.0.1");
  const auto& certificates = TestCertificates::get();
  const std::string accepted =
      runSClient(reactor, port->getHost().port,
                 {"-cert", certificates.path("client.pem"), "-key", certificates.path("client.key")});
  EXPECT_NE(accepted.find("hello from torsion"), std::string::npos) << accepted;
  const std::string refused = runSClient(reactor, port->getHost().port, {});
  EXPECT_EQ(refused.find("hello from torsion"), std::string::npos) << refused;
  EXPECT_NE(refused.find("alert"), std::string::npos) << refused;
}

TEST_P(TlsInteropTest, ClientFetchesFromNginxOverTls) {
  if (!std::filesystem::exists("/usr/sbin/nginx"))
    GTEST_SKIP() << "nginx is not installed (apt-get install nginx-light)";
  const auto& certificates = TestCertificates::get();
  char pattern[] = "/tmp/torsion-nginx-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  const std::uint16_t port = torsion_test::unusedPort();
  {
    std::ofstream config(dir + "/nginx.conf");
    config << "daemon off; master_process off; pid " << dir << "/nginx.pid; error_log " << dir << "/error.log;\n"
           << "events {}\nhttp {\n  access_log off;\n"
           << "  client_body_temp_path " << dir << "; proxy_temp_path " << dir << "; fastcgi_temp_path " << dir
           << "; uwsgi_temp_path " << dir << "; scgi_temp_path " << dir << ";\n"
           << "  server {\n    listen 127.0.0.1:" << port << " ssl;\n"
           << "    ssl_certificate " << certificates.path("server.pem") << ";\n"
           << "    ssl_certificate_key " << certificates.path("server.key") << ";\n"
           << "    location / { return 200 \"hello from nginx\\n\"; }\n  }\n}\n";
  }
  Subprocess nginx({"/usr/sbin/nginx", "-p", dir, "-e", dir + "/error.log", "-c", dir + "/nginx.conf"});
  const double deadline = torsion_test::now() + 10;
  bool up = false;
  while (!up && torsion_test::now() < deadline) {
    try {
      torsion_test::connectLoopback(port);
      up = true;
    } catch (const std::exception&) {
      ::usleep(20000);  // polling a child process's start, not synchronising our own code
    }
  }
  ASSERT_TRUE(up) << "nginx did not start: " << nginx.output();
  Seen client;
  auto reactorOwner = torsion_test::makeReactor(backend());
  torsion::Reactor& reactor = *reactorOwner;
  tls::connectSSL(reactor, "127.0.0.1", port,
                  torsion::ClientFactory::forProtocol<Recorder>(std::ref(client), false,
                                                                "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"),
                  clientOptions());
  ASSERT_TRUE(runUntil(
      reactor, [&] { return client.lost.has_value(); }, 10, "nginx's response"));
  EXPECT_NE(client.received.find("200 OK"), std::string::npos) << client.received;
  EXPECT_NE(client.received.find("hello from nginx"), std::string::npos) << client.received;
  EXPECT_TRUE(client.lost->check<torsion::ConnectionDone>())
      << "nginx closes with close_notify: " << client.lost->toString();
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TlsInteropTest);

}  // namespace
