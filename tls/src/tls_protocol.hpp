// Internal. TlsProtocol: TLS over any stream transport through OpenSSL memory BIOs
// (Twisted's TLSMemoryBIOProtocol). It is the Protocol of the real transport and the
// TLSTransport of the user's protocol:
//
//   real transport ──dataReceived──▶ TlsProtocol ──SSL_read──▶ user protocol
//   real transport ◀──write──────── TlsProtocol ◀──write (SSL_write)── user protocol
//
// Ciphertext goes into `in_` (a memory BIO OpenSSL reads) and comes out of `out_` (one it
// writes), so OpenSSL never touches a socket and every backend gets TLS unchanged.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <torsion/failure.hpp>
#include <torsion/protocol.hpp>
#include <torsion/tls/tls_transport.hpp>

#include <memory>
#include <optional>
#include <string>

#include "tls_context.hpp"

namespace torsion::tls::detail {

/// Where the TLS session is; it only moves down the list.
enum class TlsState : std::uint8_t {
  handshaking,  ///< the handshake runs; the user's writes are queued
  established,  ///< application data flows
  closing,      ///< close_notify sent (or a failure's alert): the real transport is closing
  closed,       ///< the real transport is gone; the user was told
};

/// What the user asked of the writing direction.
enum class CloseRequest : std::uint8_t {
  none,     ///< writing goes on
  pending,  ///< loseConnection before the handshake finished: close once it has
};

class TlsProtocol final : public Protocol, public TLSTransport, public std::enable_shared_from_this<TlsProtocol> {
 public:
  /// `startTLS`: the user's protocol is already connected (STARTTLS); connectionMade then
  /// only starts the handshake.
  TlsProtocol(std::shared_ptr<TlsContext> context, std::shared_ptr<Protocol> wrapped, bool startTLS);
  ~TlsProtocol() override;

  void setWrapped(std::shared_ptr<Protocol> wrapped) { wrapped_ = std::move(wrapped); }
  const std::shared_ptr<Protocol>& wrapped() const noexcept { return wrapped_; }

  // Protocol (facing the real transport)
  void connectionMade() override;
  void dataReceived(Bytes data) override;
  void connectionLost(const Failure& reason) override;

  // Transport (facing the user's protocol)
  void write(Bytes data) override;
  void writeSequence(std::span<const Bytes> data) override;
  void loseConnection() override;
  void abortConnection() override;
  void loseWriteConnection() override { loseConnection(); }
  Address getPeer() const override;
  Address getHost() const override;
  bool connected() const override { return state_ != TlsState::closed && Protocol::connected(); }
  bool disconnecting() const override { return disconnecting_; }
  std::size_t writeBufferSize() const override;
  void setWriteWatermarks(std::size_t high, std::size_t low) override;
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override;
  void unregisterProducer() override;
  void setTcpNoDelay(bool enabled) override;
  bool getTcpNoDelay() const override;
  void setTcpKeepAlive(bool enabled) override;
  bool getTcpKeepAlive() const override;
  Reactor* reactor() const noexcept override;
  IReactorTime* clock() const noexcept override;
  std::shared_ptr<Protocol> replaceProtocol(Protocol& current, std::shared_ptr<Protocol> next) override;
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }

  // TLSTransport
  bool handshakeDone() const noexcept override { return handshakeDone_; }
  std::string negotiatedProtocol() const override;
  bool sessionReused() const noexcept override;
  std::string protocolVersion() const override;
  std::string peerCertificateSubject() const override;

 private:
  Transport* lower() const noexcept { return transportPtr().get(); }
  void advanceHandshake();
  void onHandshakeDone();
  void readApplicationData();
  void writeThrough(Bytes data);
  void sendCloseNotify();
  /// Sends what OpenSSL put in the outgoing BIO to the real transport.
  void flushOutgoing();
  /// Records `failure` as the reason the user will get, sends any alert OpenSSL made,
  /// and closes the real transport.
  void fail(const Failure& failure);
  Failure reasonForUser(const Failure& lowerReason) const;

  std::shared_ptr<TlsContext> context_;
  std::shared_ptr<Protocol> wrapped_;
  SslPtr ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  TlsState state_ = TlsState::handshaking;
  CloseRequest closeRequest_ = CloseRequest::none;
  bool startTLS_;
  bool handshakeDone_ = false;
  bool disconnecting_ = false;
  bool readPaused_ = false;
  bool closeNotifyReceived_ = false;
  bool closeNotifySent_ = false;
  std::string pending_;             // the user's writes before the handshake completed
  std::unique_ptr<char[]> buffer_;  // one record in and one out, allocated once
  std::optional<Failure> failure_;  // why we are closing, if it was not clean
  DelayedCall handshakeTimer_;
};

}  // namespace torsion::tls::detail
