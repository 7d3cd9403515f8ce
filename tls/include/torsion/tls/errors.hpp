// Public. TLSError: why a TLS connection failed, as a type a protocol can check.
#pragma once

#include <torsion/errors.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace torsion::tls {

/// What went wrong in a TLS connection, one value per cause a user must tell apart.
enum class TLSErrorKind {
  untrustedCertificate,     ///< the peer's certificate does not chain to a trusted root
  hostnameMismatch,         ///< the certificate is valid but not for the host name (or IP) asked for
  certificateExpired,       ///< the certificate (or one in its chain) has expired
  certificateNotYetValid,   ///< the certificate (or one in its chain) is not valid yet
  certificateInvalid,       ///< any other verification failure (bad signature, wrong purpose, ...)
  peerRejectedCertificate,  ///< the peer refused our certificate, or required one we did not send
  noSharedVersion,          ///< the two sides have no TLS version in common
  noSharedCipher,           ///< no cipher suite, group or signature algorithm in common
  notTLS,                   ///< the peer does not speak TLS (plain text on a TLS port)
  handshakeTimeout,         ///< the handshake did not finish within the options' handshakeTimeout
  handshakeFailed,          ///< the handshake failed for another reason (the message says which)
  protocolError,            ///< a TLS protocol error after the handshake (a bad record, a bad MAC)
};

/// The name of a kind ("untrustedCertificate", ...), for messages and tests.
std::string_view toString(TLSErrorKind kind) noexcept;

/// A TLS connection failed; the protocol's connectionLost receives it. It is a
/// ConnectionLost (the connection did not end cleanly), so code that only tells clean
/// from unclean ends needs no change; code that cares checks for TLSError and its kind().
/// The message names the cause in words: for a certificate that failed verification it
/// is OpenSSL's verify result (X509_verify_cert_error_string), for other failures
/// OpenSSL's error text.
///
/// @code
/// void connectionLost(const torsion::Failure& reason) override {
///   if (auto* tls = reason.value<torsion::tls::TLSError>()) {
///     if (tls->kind() == torsion::tls::TLSErrorKind::hostnameMismatch) ...
///   }
/// }
/// @endcode
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class TLSError : public ConnectionLost {
 public:
  /// @param kind the cause.
  /// @param message the cause in words.
  /// @param verifyResult OpenSSL's X509 verify result (X509_V_ERR_...), 0 if none.
  TLSError(TLSErrorKind kind, const std::string& message, long verifyResult = 0)
      : ConnectionLost(message), kind_(kind), verifyResult_(verifyResult) {}

  /// The cause.
  TLSErrorKind kind() const noexcept { return kind_; }

  /// OpenSSL's certificate verify result (an X509_V_ERR_... value), or 0 if the failure
  /// was not a certificate verification.
  long verifyResult() const noexcept { return verifyResult_; }

 private:
  TLSErrorKind kind_;
  long verifyResult_;
};

/// TLS options that cannot be used: a certificate or key file that does not load, a key
/// that does not match its certificate, an unreadable CA file. The message names the
/// file and OpenSSL's reason.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class TLSConfigurationError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace torsion::tls
