// Internal. TlsProtocol: TLS over any stream transport through OpenSSL memory BIOs
// (Twisted's TLSMemoryBIOProtocol). It is a ProtocolWrapper: the Protocol of the real
// transport and the TLSTransport of the user's protocol:
//
//   real transport ──dataReceived──▶ TlsProtocol ──SSL_read──▶ user protocol
//   real transport ◀──write──────── TlsProtocol ◀──write (SSL_write)── user protocol
//
// OpenSSL reads ciphertext from, and writes it to, a TransportBio (our own BIO over the
// bytes the real transport delivers and the buffer we hand to its write), so OpenSSL
// never touches a socket and every backend gets TLS unchanged.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <torsion/failure.hpp>
#include <torsion/protocol_wrapper.hpp>
#include <torsion/tls/tls_transport.hpp>

#include <memory>
#include <optional>
#include <string>

#include "tls_context.hpp"
#include "transport_bio.hpp"

namespace torsion::tls::detail {

/// Where the TLS session is. One value says what may be read and written, whether the
/// handshake finished, who started the ending and whether it was clean:
///
///   handshaking ──▶ established ──(loseConnection)──────────────────────▶ closing ──────▶ closed
///        │               ├──(the peer's close_notify)─────────────────────▶ closedByPeer ─▶ closed
///        │               └──(loseWriteConnection)──▶ writeShut ──(the peer's)──▲
///        ├──(loseConnection / loseWriteConnection) ──▶ closeAfterHandshake / shutWriteAfterHandshake
///        └──(a TLS failure, the timeout, abortConnection)──▶ handshakeFailed ──▶ closed
///   after the handshake ──(a TLS failure, abortConnection)──▶ failed ──▶ closed
enum class TlsState : std::uint8_t {
  handshaking,              ///< the handshake runs; the user's writes are queued
  closeAfterHandshake,      ///< loseConnection came during the handshake: close_notify follows it
  shutWriteAfterHandshake,  ///< loseWriteConnection came during the handshake: close_notify follows it
  established,              ///< application data flows both ways
  writeShut,                ///< our close_notify is sent (loseWriteConnection); we read until the peer's
  closing,                  ///< we sent close_notify first; the real transport closes after what is queued
  closedByPeer,             ///< the peer's close_notify came (ours is sent): a clean end, whatever follows
  handshakeFailed,          ///< the handshake failed, timed out or was aborted: the real transport closes
  failed,                   ///< a failure or an abort after the handshake: the real transport closes
  closed,                   ///< the real transport is gone; the user was told
};

/// Whether the user paused reading (flow control, independent of the session's state).
enum class ReadFlow : std::uint8_t {
  flowing,  ///< records are decrypted and delivered as they arrive
  paused,   ///< pauseProducing: ciphertext waits in OpenSSL until resumeProducing
};

class TlsProtocol final : public ProtocolWrapper, public TLSTransport {
 public:
  /// `owner` is null for wrapClientProtocol and startTLS; `wrapped` is null for
  /// startTLS, whose ProtocolWrapper::wrapConnected finds the user's protocol.
  TlsProtocol(std::shared_ptr<TlsContext> context, std::shared_ptr<WrappingFactory> owner,
              std::shared_ptr<Protocol> wrapped);
  ~TlsProtocol() override;

  // Protocol (facing the real transport)
  void connectionMade() override;
  void dataReceived(Bytes data) override;
  void connectionLost(const Failure& reason) override;

  // Transport (facing the user's protocol); the rest passes through as ProtocolWrapper's
  void write(Bytes data) override;
  void writeSequence(std::span<const Bytes> data) override;
  void loseConnection() override;
  void abortConnection() override;
  void loseWriteConnection() override;
  bool connected() const override { return state_ != TlsState::closed && Protocol::connected(); }
  bool disconnecting() const override;
  std::size_t writeBufferSize() const override;
  void registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) override;
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override { loseConnection(); }

  // TLSTransport
  bool handshakeDone() const noexcept override;
  std::string negotiatedProtocol() const override;
  bool sessionReused() const noexcept override;
  std::string protocolVersion() const override;
  std::string peerCertificateSubject() const override;

 private:
  /// The user's protocol (null before startTLS inserted us, and once it was told of the loss).
  Protocol* user() const noexcept { return wrappedProtocolPtr().get(); }
  void advanceHandshake();
  void onHandshakeDone();
  void readApplicationData();
  void writeThrough(Bytes data);
  /// Sends close_notify; then `next` is writeShut (reading goes on) or closing (the real
  /// transport closes after what is queued).
  void sendCloseNotify(TlsState next);
  /// The peer's close_notify arrived: answer it (unless ours went already) and close.
  void onPeerCloseNotify();
  /// Sends what OpenSSL wrote to the real transport.
  void flushOutgoing();
  /// Records `failure` as the reason the user will get, sends any alert OpenSSL made,
  /// and closes the real transport.
  void fail(const Failure& failure);
  /// What the user's connectionLost receives, from the real transport's reason and the
  /// state the connection ended in.
  Failure reasonForUser(const Failure& lowerReason, TlsState ending) const;

  std::shared_ptr<TlsContext> context_;
  TransportBio bio_;  // before ssl_, whose BIO points to it: destroyed after ssl_
  SslPtr ssl_;
  TlsState state_ = TlsState::handshaking;
  ReadFlow readFlow_ = ReadFlow::flowing;
  std::string pending_;             // the user's writes before the handshake completed
  std::unique_ptr<char[]> buffer_;  // one decrypted record, allocated once
  std::optional<Failure> failure_;  // why we are closing, if it was not clean
  DelayedCall handshakeTimer_;
};

}  // namespace torsion::tls::detail
