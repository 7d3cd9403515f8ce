#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <torsion/tls/errors.hpp>
#include <torsion/tls/options.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <utility>

#include "tls_context.hpp"

namespace torsion::tls {

namespace detail {

namespace {

std::string openSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += (text.empty() ? "" : "; ") + std::string(buffer);
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

[[noreturn]] void configurationError(const std::string& what) {
  throw TLSConfigurationError(what + ": " + openSslErrors());
}

bool isIpLiteral(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

int newSessionCallback(SSL* ssl, SSL_SESSION* session) {
  auto* context = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (context == nullptr) return 0;
  context->rememberSession(session);
  return 1;  // we own it now
}

// What both sides' settings say about versions and ciphers.
struct VersionsAndCiphers {
  TLSVersion minimum;
  TLSVersion maximum;
  const std::string& tls12Ciphers;
  const std::string& tls13CipherSuites;
};

int openSslVersion(TLSVersion version) { return version == TLSVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

SslCtxPtr newContext(bool server, const VersionsAndCiphers& settings) {
  ERR_clear_error();
  if (openSslVersion(settings.maximum) < openSslVersion(settings.minimum)) {
    throw TLSConfigurationError("TLS settings: maximumVersion is below minimumVersion");
  }
  SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) configurationError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), openSslVersion(settings.minimum));
  SSL_CTX_set_max_proto_version(ctx.get(), openSslVersion(settings.maximum));
  if (!settings.tls12Ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), settings.tls12Ciphers.c_str()) != 1) {
    configurationError("the TLS 1.2 cipher list '" + settings.tls12Ciphers + "'");
  }
  if (!settings.tls13CipherSuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx.get(), settings.tls13CipherSuites.c_str()) != 1) {
    configurationError("the TLS 1.3 cipher suites '" + settings.tls13CipherSuites + "'");
  }
  // Our writes go to a memory BIO that grows, so a write never stops half way; moving
  // buffers are allowed because our pending data is not pinned between calls. The record
  // buffers are kept for the connection's life (about 34 KiB): SSL_MODE_RELEASE_BUFFERS
  // would save that on idle connections but frees and allocates them for every record,
  // which made a third of a 1 KiB echo's allocations and a tenth of its instructions.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

void loadTrust(SSL_CTX* ctx, const TrustRoot& trust) {
  if (trust.kind() == TrustRoot::Kind::platform) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) configurationError("loading the system trust store");
    return;
  }
  if (SSL_CTX_load_verify_locations(ctx, trust.path().c_str(), nullptr) != 1) {
    configurationError("loading the CA file '" + trust.path() + "'");
  }
}

void loadCertificate(SSL_CTX* ctx, const PrivateCertificate& certificate) {
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.certificateChainFile.c_str()) != 1) {
    configurationError("loading the certificate chain '" + certificate.certificateChainFile + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, certificate.privateKeyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    configurationError("loading the private key '" + certificate.privateKeyFile + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    configurationError("the private key '" + certificate.privateKeyFile + "' does not match the certificate '" +
                       certificate.certificateChainFile + "'");
  }
}

// ALPN's wire format: each name preceded by its length.
std::string alpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& name : protocols) {
    if (name.empty() || name.size() > 255) throw TLSConfigurationError("ALPN protocol name '" + name + "' is invalid");
    wire += static_cast<char>(name.size());
    wire += name;
  }
  return wire;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* offered,
               unsigned int offeredLength, void* argument) {
  const auto* ours = static_cast<const std::string*>(argument);
  unsigned char* chosen = nullptr;
  // Server preference: the first of ours that the client offers.
  if (SSL_select_next_proto(&chosen, outLength, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned int>(ours->size()), offered,
                            offeredLength) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol, as RFC 7301 asks
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TlsContext::TlsContext(Role role, SslCtxPtr ctx, std::string hostname, double handshakeTimeout, bool resumeSessions)
    : role_(role), ctx_(std::move(ctx)), hostname_(std::move(hostname)), handshakeTimeout_(handshakeTimeout) {
  SSL_CTX_set_app_data(ctx_.get(), this);
  if (role_ == Role::client && !resumeSessions) {
    SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_OFF);
  } else if (role_ == Role::client) {
    SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx_.get(), newSessionCallback);
  }
}

SslPtr TlsContext::newConnection() const {
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) throw std::bad_alloc();
  if (role_ == Role::server) {
    SSL_set_accept_state(ssl.get());
    return ssl;
  }
  SSL_set_connect_state(ssl.get());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (isIpLiteral(hostname_)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, hostname_.c_str());  // an IP is checked as an IP, no SNI
  } else {
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(hostname_.c_str()));
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl.get(), hostname_.c_str());
  }
  std::lock_guard lock(sessionMutex_);
  if (session_) SSL_set_session(ssl.get(), session_.get());
  return ssl;
}

void TlsContext::rememberSession(SSL_SESSION* session) {
  std::lock_guard lock(sessionMutex_);
  session_.reset(session);
}

}  // namespace detail

ClientTLSOptions::ClientTLSOptions(std::string hostname, TrustRoot trustRoot,
                                   std::optional<PrivateCertificate> clientCertificate, ClientTLSSettings settings) {
  if (hostname.empty()) throw TLSConfigurationError("optionsForClientTLS: the host name to verify is empty");
  auto ctx = detail::newContext(
      false, {settings.minimumVersion, settings.maximumVersion, settings.tls12Ciphers, settings.tls13CipherSuites});
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  detail::loadTrust(ctx.get(), trustRoot);
  if (clientCertificate) detail::loadCertificate(ctx.get(), *clientCertificate);
  if (!settings.acceptableProtocols.empty()) {
    std::string wire = detail::alpnWire(settings.acceptableProtocols);
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      detail::configurationError("setting the ALPN protocols");
    }
  }
  context_ = std::make_shared<detail::TlsContext>(detail::Role::client, std::move(ctx), std::move(hostname),
                                                  settings.handshakeTimeout, settings.resumeSessions);
}

const std::string& ClientTLSOptions::hostname() const noexcept { return context_->hostname(); }

double ClientTLSOptions::handshakeTimeout() const noexcept { return context_->handshakeTimeout(); }

namespace {

// The server's ALPN list must outlive its SSL_CTX; it lives in the context's ex data slot
// through this holder, freed with the context.
struct AlpnHolder {
  std::string wire;
};

int alpnIndex() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<AlpnHolder*>(pointer); });
  return index;
}

}  // namespace

ServerTLSOptions::ServerTLSOptions(PrivateCertificate certificate, ServerTLSSettings settings) {
  auto ctx = detail::newContext(
      true, {settings.minimumVersion, settings.maximumVersion, settings.tls12Ciphers, settings.tls13CipherSuites});
  detail::loadCertificate(ctx.get(), certificate);
  static const unsigned char sessionContext[] = "torsion";
  SSL_CTX_set_session_id_context(ctx.get(), sessionContext, sizeof sessionContext - 1);
  if (settings.clientCertificateAuthority) {
    detail::loadTrust(ctx.get(), *settings.clientCertificateAuthority);
    if (settings.clientCertificateAuthority->kind() == TrustRoot::Kind::caFile) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.clientCertificateAuthority->path().c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx.get(), names);
    }
    SSL_CTX_set_verify(ctx.get(),
                       SSL_VERIFY_PEER | (settings.requireClientCertificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       nullptr);
  }
  if (!settings.sessionTickets) {
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx.get(), 0);
  }
  if (!settings.acceptableProtocols.empty()) {
    auto* holder = new AlpnHolder{detail::alpnWire(settings.acceptableProtocols)};
    SSL_CTX_set_ex_data(ctx.get(), alpnIndex(), holder);
    SSL_CTX_set_alpn_select_cb(ctx.get(), detail::selectAlpn, &holder->wire);
  }
  context_ = std::make_shared<detail::TlsContext>(detail::Role::server, std::move(ctx), std::string(),
                                                  settings.handshakeTimeout);
}

double ServerTLSOptions::handshakeTimeout() const noexcept { return context_->handshakeTimeout(); }

}  // namespace torsion::tls
