// Test support for torsion::tls: the certificates (made once per test binary with the
// openssl command line), and small protocols for TLS tests.
#pragma once

#include <gtest/gtest.h>
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace torsion_test {

/// The directory with the test certificates: TORSION_TLS_CERT_DIR in the build tree,
/// made by make_test_certificates.sh on first use (by the CTest fixture
/// tls_test_certificates, or by whichever test process runs first: it writes into a
/// temporary directory and renames it into place, so parallel processes never see half a
/// set).
class TestCertificates {
 public:
  static const TestCertificates& get() {
    static const TestCertificates instance;
    return instance;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  torsion::tls::TrustRoot ca() const { return torsion::tls::TrustRoot::fromCAFile(path("ca.pem")); }
  torsion::tls::PrivateCertificate server() const { return named("server"); }
  torsion::tls::PrivateCertificate client() const { return named("client"); }
  torsion::tls::PrivateCertificate named(const std::string& name) const {
    return {path(name + ".pem"), path(name + ".key")};
  }

 private:
  TestCertificates() : dir_(TORSION_TLS_CERT_DIR) {
    if (std::filesystem::exists(dir_ / "notyet.pem")) return;
    std::filesystem::create_directories(dir_.parent_path());
    std::string pattern = (dir_.parent_path() / "certificates-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    const std::string command =
        std::string("sh '") + TORSION_TLS_CERT_SCRIPT + "' '" + pattern + "' > '" + pattern + "/openssl.log' 2>&1";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("making the test certificates failed; see " + pattern + "/openssl.log");
    }
    std::error_code error;
    std::filesystem::rename(pattern, dir_, error);
    if (error) std::filesystem::remove_all(pattern, error);  // another process was first
  }
  std::filesystem::path dir_;
};

inline torsion::tls::ServerTLSOptions serverOptions(torsion::tls::ServerTLSSettings settings = {}) {
  return torsion::tls::ServerTLSOptions(TestCertificates::get().server(), std::move(settings));
}

inline torsion::tls::ClientTLSOptions clientOptions(const std::string& host = "localhost",
                                                    std::optional<torsion::tls::PrivateCertificate> certificate = {},
                                                    torsion::tls::ClientTLSSettings settings = {}) {
  return torsion::tls::optionsForClientTLS(host, TestCertificates::get().ca(), std::move(certificate),
                                           std::move(settings));
}

/// What a test protocol saw: bytes, the handshake, how it ended.
struct Seen {
  std::string received;
  bool made = false;
  bool handshake = false;
  std::optional<torsion::Failure> lost;
};

/// Records everything into a Seen; optionally echoes, optionally writes a greeting.
class Recorder : public torsion::Protocol, public torsion::tls::IHandshakeListener {
 public:
  Recorder(Seen& seen, bool echo = false, std::string greeting = {})
      : seen_(seen), echo_(echo), greeting_(std::move(greeting)) {}
  void connectionMade() override {
    seen_.made = true;
    if (!greeting_.empty()) transport().write(greeting_);
  }
  void handshakeCompleted() override { seen_.handshake = true; }
  void dataReceived(torsion::Bytes data) override {
    seen_.received.append(data.data(), data.size());
    if (echo_) transport().write(data);
  }
  void connectionLost(const torsion::Failure& reason) override { seen_.lost = reason; }

 private:
  Seen& seen_;
  bool echo_;
  std::string greeting_;
};

/// The kind of a TLSError, or nullopt if `failure` is not one.
inline std::optional<torsion::tls::TLSErrorKind> tlsKind(const torsion::Failure& failure) {
  if (auto* error = failure.value<torsion::tls::TLSError>()) return error->kind();
  return std::nullopt;
}

}  // namespace torsion_test
