// Internal. TlsContext: one OpenSSL SSL_CTX with what every connection made from it needs
// (role, host name, timeout, the client's resumable session), owned through RAII.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

namespace torsion::tls::detail {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
struct SessionFree {
  void operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

enum class Role { client, server };

class TlsContext {
 public:
  TlsContext(Role role, SslCtxPtr ctx, std::string hostname, double handshakeTimeout, bool resumeSessions = false);
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  Role role() const noexcept { return role_; }
  SSL_CTX* get() const noexcept { return ctx_.get(); }
  const std::string& hostname() const noexcept { return hostname_; }
  double handshakeTimeout() const noexcept { return handshakeTimeout_; }

  /// A new SSL for one connection, in the right role, with SNI, host checks and the
  /// last session to resume (client side).
  SslPtr newConnection() const;

  /// Called by OpenSSL when a client session (a TLS 1.3 ticket) arrives: kept for the
  /// next connection. Takes ownership.
  void rememberSession(SSL_SESSION* session);

 private:
  Role role_;
  SslCtxPtr ctx_;
  std::string hostname_;
  double handshakeTimeout_;
  mutable std::mutex sessionMutex_;  // options may be shared by reactors on several threads
  SessionPtr session_;
};

}  // namespace torsion::tls::detail
