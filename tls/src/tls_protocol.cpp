#include "tls_protocol.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <torsion/errors.hpp>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <utility>

#include "tls_error_classify.hpp"

namespace torsion::tls::detail {

namespace {

// OpenSSL's largest record plaintext; a read of this size takes a whole record.
constexpr std::size_t kRecord = 16 * 1024;

// SSL_get_error needs this thread's error queue empty before the SSL call it explains.
// ERR_clear_error wipes every slot of the queue each time (a tenth of a 1 KiB echo's
// instructions when called before every SSL_read and SSL_write); the queue is almost
// always empty already, which ERR_peek_error sees cheaply.
void clearErrors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

bool inHandshake(TlsState state) {
  return state == TlsState::handshaking || state == TlsState::closeAfterHandshake ||
         state == TlsState::shutWriteAfterHandshake;
}

}  // namespace

TlsProtocol::TlsProtocol(std::shared_ptr<TlsContext> context, std::shared_ptr<WrappingFactory> owner,
                         std::shared_ptr<Protocol> wrapped)
    : ProtocolWrapper(std::move(owner), std::move(wrapped)), context_(std::move(context)) {}

TlsProtocol::~TlsProtocol() = default;

void TlsProtocol::connectionMade() {
  ssl_ = context_->newConnection();
  BIO* bio = bio_.newBio();
  SSL_set_bio(ssl_.get(), bio, bio);  // one reference, for both directions
  // Take all the ciphertext there is in one BIO read, not a record's header and then its
  // body in two: the bytes are in memory already, so reading ahead costs nothing.
  SSL_set_read_ahead(ssl_.get(), 1);
  // Not zeroed: SSL_read writes what is read. Zeroing 16 KiB was about 16,000
  // instructions a connection, half a percent of a full handshake.
  buffer_ = std::make_unique_for_overwrite<char[]>(kRecord);
  if (const double timeout = context_->handshakeTimeout(); timeout > 0 && clock() != nullptr) {
    handshakeTimer_ = callLater(timeout, [this, timeout] {
      fail(Failure(TLSError(TLSErrorKind::handshakeTimeout, "TLS handshake failed: no answer within " +
                                                                std::to_string(timeout) + " s [handshakeTimeout]")));
      if (lower() != nullptr) lower()->abortConnection();
    });
  }
  advanceHandshake();  // a client sends its ClientHello now
  // Registers with the factory and connects the user's protocol (unless startTLS found
  // it connected already).
  if (state_ != TlsState::closed) ProtocolWrapper::connectionMade();
}

void TlsProtocol::advanceHandshake() {
  clearErrors();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    flushOutgoing();
    onHandshakeDone();
    return;
  }
  const int error = SSL_get_error(ssl_.get(), result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    flushOutgoing();
    return;
  }
  fail(Failure(classifyFailure(ssl_.get(), true, context_->hostname())));
}

void TlsProtocol::onHandshakeDone() {
  const TlsState requested = state_;  // a close the user asked for during the handshake
  state_ = TlsState::established;
  torsion::cancelIfActive(handshakeTimer_);
  // What the user wrote before the handshake goes first, before anything the listener
  // writes, and before a close it asked for.
  if (!pending_.empty()) {
    std::string queued = std::move(pending_);
    pending_.clear();
    writeThrough(Bytes(queued));
  }
  if (state_ != TlsState::established) return;  // the write failed
  if (auto* listener = dynamic_cast<IHandshakeListener*>(user())) listener->handshakeCompleted();
  if (state_ != TlsState::established) return;  // the listener closed
  if (requested == TlsState::closeAfterHandshake) sendCloseNotify(TlsState::closing);
  if (requested == TlsState::shutWriteAfterHandshake) sendCloseNotify(TlsState::writeShut);
}

void TlsProtocol::dataReceived(Bytes data) {
  if (!ssl_) return;
  // Once we close (cleanly or not) the rest of the input is ignored.
  if (state_ == TlsState::closing || state_ == TlsState::closedByPeer || state_ == TlsState::failed ||
      state_ == TlsState::handshakeFailed || state_ == TlsState::closed) {
    return;
  }
  bio_.feed(data);
  // `data` goes away when we return (or the user's dataReceived throws): what OpenSSL
  // did not take yet (reading is paused, or the session ended) is copied then.
  struct KeepUnread {
    TransportBio& bio;
    ~KeepUnread() { bio.keepUnread(); }
  } keepUnread{bio_};
  if (inHandshake(state_)) advanceHandshake();
  if (!inHandshake(state_)) readApplicationData();
}

void TlsProtocol::readApplicationData() {
  char* buffer = buffer_.get();
  while ((state_ == TlsState::established || state_ == TlsState::writeShut) && readFlow_ == ReadFlow::flowing) {
    clearErrors();
    const int got = SSL_read(ssl_.get(), buffer, static_cast<int>(kRecord));
    if (got > 0) {
      if (user() != nullptr) user()->dataReceived(Bytes(buffer, static_cast<std::size_t>(got)));
      // Another SSL_read would only say "want read" when neither a decrypted record nor
      // ciphertext is left: skip that call (one of three per received record).
      if (ssl_ && !SSL_has_pending(ssl_.get()) && bio_.unread() == 0) break;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), got);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {
      onPeerCloseNotify();
      break;
    }
    fail(Failure(classifyFailure(ssl_.get(), false, context_->hostname())));
    break;
  }
  flushOutgoing();  // TLS 1.3 tickets, key updates
}

// Both close_notify alerts are then out, so the session ended cleanly: the user gets
// ConnectionDone even if the real transport fails to deliver our answer (the peer may
// close at once after its close_notify, making our write fail with EPIPE).
void TlsProtocol::onPeerCloseNotify() {
  if (state_ == TlsState::writeShut) {  // ours went first
    state_ = TlsState::closedByPeer;
    if (lower() != nullptr) lower()->loseConnection();
    return;
  }
  sendCloseNotify(TlsState::closedByPeer);  // answer it and close
}

void TlsProtocol::connectionLost(const Failure& reason) {
  const TlsState ending = state_;
  state_ = TlsState::closed;
  torsion::cancelIfActive(handshakeTimer_);
  ProtocolWrapper::connectionLost(reasonForUser(reason, ending));
}

Failure TlsProtocol::reasonForUser(const Failure& lowerReason, TlsState ending) const {
  if (failure_) return *failure_;
  if (lowerReason.check<ConnectionAborted>()) return lowerReason;
  if (inHandshake(ending) && lowerReason.check<ConnectionDone>()) {
    return Failure(TLSError(TLSErrorKind::handshakeFailed,
                            "TLS handshake failed: the peer closed the connection during the handshake"));
  }
  // A clean end passes the lower transport's ConnectionDone on when it is one: a new
  // Failure costs a rethrow (about 10,000 instructions) for every closed connection.
  const auto done = [&] { return lowerReason.check<ConnectionDone>() ? lowerReason : Failure(ConnectionDone()); };
  if (ending == TlsState::closedByPeer) return done();
  if (ending == TlsState::closing) {  // ours went out: clean unless what was queued was lost
    return lowerReason.check<ConnectionLost>() ? lowerReason : done();
  }
  if (lowerReason.check<ConnectionDone>()) {
    return Failure(ConnectionLost("TLS connection truncated: the peer closed without sending close_notify"));
  }
  return lowerReason;
}

void TlsProtocol::write(Bytes data) {
  if (data.empty()) return;
  if (state_ == TlsState::handshaking) {
    pending_.append(data.data(), data.size());  // sent through TLS once the handshake is done
  } else if (state_ == TlsState::established) {
    writeThrough(data);
  }
  // In every other state the writing direction is closed: the bytes are dropped, as TCP's.
}

void TlsProtocol::writeSequence(std::span<const Bytes> data) {
  for (const Bytes& piece : data) write(piece);
}

void TlsProtocol::writeThrough(Bytes data) {
  std::size_t offset = 0;
  while (offset < data.size()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(data.size() - offset, INT_MAX / 2));
    clearErrors();
    const int wrote = SSL_write(ssl_.get(), data.data() + offset, chunk);
    if (wrote <= 0) {
      fail(Failure(classifyFailure(ssl_.get(), false, context_->hostname())));
      return;
    }
    offset += static_cast<std::size_t>(wrote);
  }
  flushOutgoing();
}

void TlsProtocol::flushOutgoing() {
  if (!bio_.hasOutgoing()) return;
  const Bytes records = bio_.takeOutgoing();
  if (lower() != nullptr) lower()->write(records);
}

void TlsProtocol::sendCloseNotify(TlsState next) {
  state_ = next;
  clearErrors();
  SSL_shutdown(ssl_.get());  // queues close_notify; we do not wait for the peer's here
  flushOutgoing();
  if (next != TlsState::writeShut) {
    if (lower() != nullptr) lower()->loseConnection();  // after what is queued
  } else if (auto* halfCloseable = dynamic_cast<HalfCloseableProtocol*>(user())) {
    halfCloseable->writeConnectionLost();
  }
}

void TlsProtocol::fail(const Failure& failure) {
  if (state_ == TlsState::closed) return;
  if (!failure_) failure_ = failure;
  pending_.clear();  // never sent in plain text, and never after a failure
  torsion::cancelIfActive(handshakeTimer_);
  const bool lowerClosing = state_ == TlsState::closing || state_ == TlsState::closedByPeer ||
                            state_ == TlsState::failed || state_ == TlsState::handshakeFailed;
  state_ = inHandshake(state_) || state_ == TlsState::handshakeFailed ? TlsState::handshakeFailed : TlsState::failed;
  if (lowerClosing) return;
  flushOutgoing();  // the alert OpenSSL made, if any
  if (lower() != nullptr) lower()->loseConnection();
}

void TlsProtocol::loseConnection() {
  switch (state_) {
    case TlsState::handshaking:
    case TlsState::shutWriteAfterHandshake: state_ = TlsState::closeAfterHandshake; return;
    case TlsState::established: sendCloseNotify(TlsState::closing); return;
    case TlsState::writeShut:  // our close_notify is out already; stop waiting for the peer's
      state_ = TlsState::closing;
      if (lower() != nullptr) lower()->loseConnection();
      return;
    default: return;  // closing already
  }
}

// Twisted's TLS half-close: close_notify says we write no more; reading goes on until the
// peer's close_notify, which ends the connection (ConnectionDone).
void TlsProtocol::loseWriteConnection() {
  if (state_ == TlsState::handshaking) {
    state_ = TlsState::shutWriteAfterHandshake;
  } else if (state_ == TlsState::established) {
    sendCloseNotify(TlsState::writeShut);
  }
}

void TlsProtocol::abortConnection() {
  if (state_ == TlsState::closed) return;
  pending_.clear();
  if (!failure_) failure_ = Failure(ConnectionAborted());
  torsion::cancelIfActive(handshakeTimer_);
  state_ = inHandshake(state_) || state_ == TlsState::handshakeFailed ? TlsState::handshakeFailed : TlsState::failed;
  if (lower() != nullptr) lower()->abortConnection();
}

bool TlsProtocol::disconnecting() const {
  return state_ == TlsState::closeAfterHandshake || state_ == TlsState::closing || state_ == TlsState::closedByPeer ||
         state_ == TlsState::failed || state_ == TlsState::handshakeFailed;
}

bool TlsProtocol::handshakeDone() const noexcept {
  return state_ == TlsState::established || state_ == TlsState::writeShut || state_ == TlsState::closing ||
         state_ == TlsState::closedByPeer || state_ == TlsState::failed;
}

std::size_t TlsProtocol::writeBufferSize() const {
  return pending_.size() + (lower() != nullptr ? lower()->writeBufferSize() : 0);
}

// A producer writing to us is registered with the real transport: our writes reach it at
// once (after the handshake), so its queue is the back-pressure the producer must feel.
void TlsProtocol::registerProducer(std::shared_ptr<IPullProducer> producer, bool streaming) {
  if (lower() == nullptr) throw std::logic_error("registerProducer: the TLS connection is not connected");
  lower()->registerProducer(std::move(producer), streaming);
}

void TlsProtocol::pauseProducing() {
  readFlow_ = ReadFlow::paused;
  if (lower() != nullptr) lower()->pauseProducing();
}

void TlsProtocol::resumeProducing() {
  if (readFlow_ == ReadFlow::flowing) return;
  readFlow_ = ReadFlow::flowing;
  if (ssl_) readApplicationData();  // what OpenSSL already holds
  if (lower() != nullptr) lower()->resumeProducing();
}

std::string TlsProtocol::negotiatedProtocol() const {
  if (!ssl_) return {};
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_.get(), &name, &length);
  return name != nullptr ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

bool TlsProtocol::sessionReused() const noexcept { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }

std::string TlsProtocol::protocolVersion() const {
  // Asked of OpenSSL, so that connectionLost can still read it.
  return ssl_ && SSL_is_init_finished(ssl_.get()) ? std::string(SSL_get_version(ssl_.get())) : std::string();
}

std::string TlsProtocol::peerCertificateSubject() const {
  if (!ssl_) return {};
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (peer == nullptr) return {};
  BIO* text = BIO_new(BIO_s_mem());
  if (text == nullptr) return {};
  X509_NAME_print_ex(text, X509_get_subject_name(peer), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long length = BIO_get_mem_data(text, &data);
  std::string subject(data, static_cast<std::size_t>(length));
  BIO_free(text);
  return subject;
}

}  // namespace torsion::tls::detail
