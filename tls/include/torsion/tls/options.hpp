// Public. The TLS settings of a client or a server (Twisted's optionsForClientTLS and
// CertificateOptions): what a connection is verified against and what it presents.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torsion::tls {

namespace detail {
class TlsContext;
}

/// A TLS version, as the floor (minimumVersion) or ceiling (maximumVersion) a side
/// accepts. TLS 1.2 is the lowest there is: older versions are always refused.
enum class TLSVersion {
  tls1_2,  ///< TLS 1.2 (the default floor)
  tls1_3,  ///< TLS 1.3 (the default ceiling)
};

/// The certificate authorities a peer's certificate must chain to (Twisted's
/// IOpenSSLTrustRoot).
///
/// Thread safety: a value type.
class TrustRoot {
 public:
  /// Where the roots come from.
  enum class Kind {
    platform,  ///< the system's trust store (SSL_CTX_set_default_verify_paths)
    caFile,    ///< a PEM file of one or more CA certificates
  };

  /// The system's trust store (Twisted's platformTrust()).
  static TrustRoot platform() { return TrustRoot(Kind::platform, {}); }

  /// The CA certificates in the PEM file `path` (and only those).
  static TrustRoot fromCAFile(std::string path) { return TrustRoot(Kind::caFile, std::move(path)); }

  /// Where the roots come from.
  Kind kind() const noexcept { return kind_; }

  /// The CA file's path (empty for the platform store).
  const std::string& path() const noexcept { return path_; }

 private:
  TrustRoot(Kind kind, std::string path) : kind_(kind), path_(std::move(path)) {}
  Kind kind_;
  std::string path_;
};

/// The system's trust store: TrustRoot::platform().
inline TrustRoot platformTrust() { return TrustRoot::platform(); }

/// A certificate chain and its private key, both PEM files (Twisted's PrivateCertificate).
///
/// Thread safety: a value type.
struct PrivateCertificate {
  /// The PEM file with the certificate first, then any intermediate CA certificates.
  std::string certificateChainFile;
  /// The PEM file with the private key (unencrypted).
  std::string privateKeyFile;
};

/// A client's settings beyond the host name, trust and certificate.
///
/// Thread safety: a value type.
struct ClientTLSSettings {
  /// ALPN protocol names to offer, in order of preference ("h2", "http/1.1"); empty: none.
  std::vector<std::string> acceptableProtocols;
  /// The lowest version accepted.
  TLSVersion minimumVersion = TLSVersion::tls1_2;
  /// Seconds the handshake may take before the connection fails with
  /// TLSErrorKind::handshakeTimeout; 0 for no limit.
  double handshakeTimeout = 30;
  /// Keep the last session the server gave and offer it on the next connection made with
  /// these options (an abbreviated handshake). On by default.
  bool resumeSessions = true;
  /// The highest version offered (TLS 1.3 by default); TLSVersion::tls1_2 for a peer
  /// that mishandles TLS 1.3. Below minimumVersion is a TLSConfigurationError.
  TLSVersion maximumVersion = TLSVersion::tls1_3;
  /// The TLS 1.2 cipher suites allowed, in OpenSSL's cipher-list syntax
  /// ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"); empty: OpenSSL's
  /// defaults. A list OpenSSL cannot use is a TLSConfigurationError.
  std::string tls12Ciphers;
  /// The TLS 1.3 cipher suites allowed ("TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
  /// empty: OpenSSL's defaults. A list OpenSSL cannot use is a TLSConfigurationError.
  std::string tls13CipherSuites;
};

/// How a TLS client connects: the host name it verifies (and sends as SNI), the roots
/// it trusts, and the certificate it presents if any. Made once and shared by every
/// connection (the OpenSSL context is built in the constructor); copies share it, and
/// with it the TLS session that lets a later connection to the same server resume.
///
/// What is verified: the peer's chain up to `trustRoot`, the validity dates, and the
/// host name: a DNS name with SNI and X509_check_host rules (wildcards in the leftmost
/// label only), an IPv4 or IPv6 literal as an IP address (X509_check_ip_asc rules, no
/// SNI). Versions below TLS 1.2 are refused.
///
/// Thread safety: immutable after construction; copies may be used on several threads.
class ClientTLSOptions {
 public:
  /// @param hostname the name (or IP literal) the server's certificate must match.
  /// @param trustRoot the roots the server's chain must reach.
  /// @param clientCertificate a certificate to present for mutual TLS, if any.
  /// @param settings ALPN, minimum version, handshake timeout.
  /// @throws TLSConfigurationError if a file does not load, or `hostname` is empty.
  explicit ClientTLSOptions(std::string hostname, TrustRoot trustRoot = platformTrust(),
                            std::optional<PrivateCertificate> clientCertificate = std::nullopt,
                            ClientTLSSettings settings = {});

  /// The host name (or IP literal) that is verified.
  const std::string& hostname() const noexcept;

  /// The handshake timeout in seconds (0: none).
  double handshakeTimeout() const noexcept;

  /// The shared context; for torsion's own TLS code.
  const std::shared_ptr<detail::TlsContext>& context() const noexcept { return context_; }

 private:
  std::shared_ptr<detail::TlsContext> context_;
};

/// Twisted's optionsForClientTLS: ClientTLSOptions for `hostname`.
/// @code
/// auto options = torsion::tls::optionsForClientTLS("example.org");               // system roots
/// auto local = torsion::tls::optionsForClientTLS("localhost", torsion::tls::TrustRoot::fromCAFile("ca.pem"));
/// @endcode
/// @throws TLSConfigurationError as ClientTLSOptions.
inline ClientTLSOptions optionsForClientTLS(std::string hostname, TrustRoot trustRoot = platformTrust(),
                                            std::optional<PrivateCertificate> clientCertificate = std::nullopt,
                                            ClientTLSSettings settings = {}) {
  return ClientTLSOptions(std::move(hostname), std::move(trustRoot), std::move(clientCertificate), std::move(settings));
}

/// A server's settings beyond its certificate.
///
/// Thread safety: a value type.
struct ServerTLSSettings {
  /// If set, clients are asked for a certificate, which must chain to these roots.
  std::optional<TrustRoot> clientCertificateAuthority;
  /// With clientCertificateAuthority: refuse a client that sends no certificate (true),
  /// or accept it unauthenticated (false).
  bool requireClientCertificate = true;
  /// ALPN protocol names the server speaks, in its order of preference; the first one the
  /// client also offers is chosen. Empty: ALPN is ignored.
  std::vector<std::string> acceptableProtocols;
  /// Session tickets (resumption without a server-side cache), on by default.
  bool sessionTickets = true;
  /// The lowest version accepted.
  TLSVersion minimumVersion = TLSVersion::tls1_2;
  /// Seconds the handshake may take before the connection fails; 0 for no limit.
  double handshakeTimeout = 30;  /// The highest version accepted (TLS 1.3 by default); TLSVersion::tls1_2 for a peer
  /// that mishandles TLS 1.3. Below minimumVersion is a TLSConfigurationError.
  TLSVersion maximumVersion = TLSVersion::tls1_3;
  /// The TLS 1.2 cipher suites allowed, in OpenSSL's cipher-list syntax
  /// ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"); empty: OpenSSL's
  /// defaults. A list OpenSSL cannot use is a TLSConfigurationError.
  std::string tls12Ciphers;
  /// The TLS 1.3 cipher suites allowed ("TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
  /// empty: OpenSSL's defaults. A list OpenSSL cannot use is a TLSConfigurationError.
  std::string tls13CipherSuites;
};

/// How a TLS server accepts: its certificate chain and key, and optionally the roots
/// client certificates must chain to (mutual TLS). The OpenSSL context is built once, in
/// the constructor, and shared by every connection and every copy.
///
/// @code
/// torsion::tls::ServerTLSOptions options({"server-chain.pem", "server-key.pem"});
/// torsion::tls::listenSSL(reactor, 8443, factory, options);
/// @endcode
///
/// Thread safety: immutable after construction; copies may be used on several threads.
class ServerTLSOptions {
 public:
  /// @param certificate the chain and key to present.
  /// @param settings client verification, ALPN, tickets, minimum version, timeout.
  /// @throws TLSConfigurationError if a file does not load or the key does not match.
  explicit ServerTLSOptions(PrivateCertificate certificate, ServerTLSSettings settings = {});

  /// The handshake timeout in seconds (0: none).
  double handshakeTimeout() const noexcept;

  /// The shared context; for torsion's own TLS code.
  const std::shared_ptr<detail::TlsContext>& context() const noexcept { return context_; }

 private:
  std::shared_ptr<detail::TlsContext> context_;
};

}  // namespace torsion::tls
