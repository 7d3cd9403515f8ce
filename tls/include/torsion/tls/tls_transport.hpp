// Public. TLSTransport and IHandshakeListener: what a protocol speaking over TLS can ask
// its transport, and the hook it may implement to learn that the handshake finished.
#pragma once

#include <torsion/transport.hpp>

#include <string>

namespace torsion::tls {

/// The transport a protocol gets when it speaks over TLS (Twisted's ISSLTransport): a
/// Transport, plus what the handshake settled. Reach it with
/// `dynamic_cast<torsion::tls::TLSTransport*>(&transport())`.
///
/// Its Transport methods behave as a TCP transport's, over TLS: writes made before the
/// handshake completes are queued and sent encrypted once it has; loseConnection sends
/// close_notify after what is queued and then closes; abortConnection closes at once; a
/// registered producer is paused by the underlying transport's back-pressure. The
/// protocol's connectionLost receives ConnectionDone after a close_notify (either side's),
/// ConnectionLost when the peer closed without one (a truncation), and a TLSError when the
/// handshake or the protocol failed.
///
/// Thread safety: use only on the thread that runs its reactor.
class TLSTransport : public virtual Transport {
 public:
  /// True once the handshake has completed (and until the connection is lost).
  virtual bool handshakeDone() const noexcept = 0;

  /// The ALPN protocol both sides agreed on, or "" if none.
  virtual std::string negotiatedProtocol() const = 0;

  /// True if this connection resumed an earlier TLS session (an abbreviated handshake).
  virtual bool sessionReused() const noexcept = 0;

  /// The negotiated version: "TLSv1.3", "TLSv1.2", or "" before the handshake.
  virtual std::string protocolVersion() const = 0;

  /// The subject of the peer's certificate in one line ("CN=localhost"), "" if it sent none.
  virtual std::string peerCertificateSubject() const = 0;
};

/// Implemented by a protocol that wants to know when the TLS handshake completed
/// (Twisted's IHandshakeListener). Its connectionMade runs before the handshake, as in
/// Twisted; writes made there are queued until the handshake is done.
///
/// Thread safety: called on the thread that runs the connection's reactor.
class IHandshakeListener {
 public:
  virtual ~IHandshakeListener() = default;
  /// The handshake completed; the peer is verified as the options asked.
  virtual void handshakeCompleted() = 0;
};

}  // namespace torsion::tls
