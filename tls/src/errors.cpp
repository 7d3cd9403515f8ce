#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <torsion/tls/errors.hpp>

#include <optional>
#include <string>

#include "tls_error_classify.hpp"

namespace torsion::tls {

std::string_view toString(TLSErrorKind kind) noexcept {
  switch (kind) {
    case TLSErrorKind::untrustedCertificate: return "untrustedCertificate";
    case TLSErrorKind::hostnameMismatch: return "hostnameMismatch";
    case TLSErrorKind::certificateExpired: return "certificateExpired";
    case TLSErrorKind::certificateNotYetValid: return "certificateNotYetValid";
    case TLSErrorKind::certificateInvalid: return "certificateInvalid";
    case TLSErrorKind::peerRejectedCertificate: return "peerRejectedCertificate";
    case TLSErrorKind::noSharedVersion: return "noSharedVersion";
    case TLSErrorKind::noSharedCipher: return "noSharedCipher";
    case TLSErrorKind::notTLS: return "notTLS";
    case TLSErrorKind::handshakeTimeout: return "handshakeTimeout";
    case TLSErrorKind::handshakeFailed: return "handshakeFailed";
    case TLSErrorKind::protocolError: return "protocolError";
  }
  return "unknown";
}

namespace detail {

namespace {

TLSErrorKind verifyKind(long result) {
  switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH: return TLSErrorKind::hostnameMismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_HAS_EXPIRED: return TLSErrorKind::certificateExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CRL_NOT_YET_VALID: return TLSErrorKind::certificateNotYetValid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED: return TLSErrorKind::untrustedCertificate;
    default: return TLSErrorKind::certificateInvalid;
  }
}

TLSErrorKind reasonKind(int reason, bool handshaking) {
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH: return TLSErrorKind::noSharedVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return TLSErrorKind::noSharedCipher;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL: return handshaking ? TLSErrorKind::notTLS : TLSErrorKind::protocolError;
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED: return TLSErrorKind::peerRejectedCertificate;
    default: return handshaking ? TLSErrorKind::handshakeFailed : TLSErrorKind::protocolError;
  }
}

// A received alert: OpenSSL reports it as the alert's number past SSL_AD_REASON_OFFSET.
std::optional<int> receivedAlert(unsigned long code) {
  const int reason = ERR_GET_REASON(code);
  if (ERR_GET_LIB(code) != ERR_LIB_SSL || reason < SSL_AD_REASON_OFFSET || reason >= SSL_AD_REASON_OFFSET + 256) {
    return std::nullopt;
  }
  return reason - SSL_AD_REASON_OFFSET;
}

// What a received alert tells: which alert, and no more. A handshake_failure in
// particular is what a peer sends for any refusal it does not name (no cipher in common,
// a client certificate it required, a policy of its own), so it names no cause.
std::string describeAlert(int alert) {
  return std::string("the peer sent the alert '") + SSL_alert_desc_string_long(alert) + "' (" + std::to_string(alert) +
         ")";
}

}  // namespace

TLSError classifyFailure(SSL* ssl, bool handshaking, const std::string& hostname) {
  const std::string stage = handshaking ? "TLS handshake failed: " : "TLS connection failed: ";
  // The first error is the cause; later ones are consequences, except that a reason of
  // our own found beside a received alert is worth naming too.
  unsigned long first = ERR_peek_error();
  unsigned long local = 0;
  std::string openSslText;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    openSslText += (openSslText.empty() ? "" : "; ") + std::string(buffer);
    if (local == 0 && code != first && !receivedAlert(code)) local = code;
  }
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  const bool verifyFailed = first != 0 && ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED;
  if (verifyFailed && verify != X509_V_OK) {
    TLSErrorKind kind = verifyKind(verify);
    std::string message = stage + "certificate verify failed: " + X509_verify_cert_error_string(verify);
    if (kind == TLSErrorKind::hostnameMismatch) message += " (the certificate is not for '" + hostname + "')";
    return TLSError(kind, message + " [" + toString(kind).data() + ", verify result " + std::to_string(verify) + "]",
                    verify);
  }
  if (first == 0) {
    return TLSError(handshaking ? TLSErrorKind::handshakeFailed : TLSErrorKind::protocolError,
                    stage + "OpenSSL reported no reason");
  }
  std::string cause;
  TLSErrorKind kind = reasonKind(ERR_GET_REASON(first), handshaking);
  if (const auto alert = receivedAlert(first)) {
    cause = describeAlert(*alert);
    if (local != 0 && ERR_reason_error_string(local) != nullptr) {
      cause += std::string("; here: ") + ERR_reason_error_string(local);
      if (kind == TLSErrorKind::handshakeFailed) kind = reasonKind(ERR_GET_REASON(local), handshaking);
    }
  } else {
    const char* reason = ERR_reason_error_string(first);
    cause = reason != nullptr ? reason : "unknown reason";
  }
  return TLSError(kind, stage + cause + " [" + toString(kind).data() + "] (" + openSslText + ")");
}

}  // namespace detail

}  // namespace torsion::tls
