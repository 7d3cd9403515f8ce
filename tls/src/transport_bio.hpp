// Internal. TransportBio: the BIO pair a TlsProtocol gives OpenSSL instead of two memory
// BIOs. OpenSSL reads ciphertext straight from the bytes the real transport delivered
// (kept only when a call leaves some unread) and writes its records into one outgoing
// buffer that the protocol hands to the real transport after each SSL call:
//
//   dataReceived(bytes) ──feed──▶ [unread view | kept copy] ──read──▶ OpenSSL
//   OpenSSL ──write──▶ outgoing ──takeOutgoing──▶ real transport's write
//
// A memory BIO copies each byte twice on the way out (into the BIO, out into a buffer)
// and once more on the way in, each behind BIO_ctrl bookkeeping; this copies once out and
// never in, unless OpenSSL stops reading before the input is used up.
#pragma once

#include <openssl/bio.h>
#include <torsion/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace torsion::tls::detail {

class TransportBio {
 public:
  TransportBio() = default;
  TransportBio(const TransportBio&) = delete;
  TransportBio& operator=(const TransportBio&) = delete;

  /// A new BIO reading from and writing to this object, which must outlive it (the SSL
  /// that owns the BIO is destroyed before this object). One BIO serves both directions.
  BIO* newBio();

  /// Offers `data` to OpenSSL's next reads. The view is borrowed: call keepUnread before
  /// `data` goes away.
  void feed(Bytes data);
  /// Copies what OpenSSL did not read of the fed view, so that it survives the view.
  void keepUnread();
  /// Ciphertext received and not yet read by OpenSSL.
  std::size_t unread() const noexcept { return view_.size(); }

  /// Whether OpenSSL wrote anything since the last takeOutgoing.
  bool hasOutgoing() const noexcept { return !outgoing_.empty(); }
  /// What OpenSSL wrote since the last call, valid until the next call. OpenSSL may write
  /// again meanwhile (the real transport's write may reach us): that goes to the other
  /// buffer. Both keep their capacity, so a steady stream allocates nothing.
  Bytes takeOutgoing() noexcept;

 private:
  static int read(BIO* bio, char* out, int size);
  static int write(BIO* bio, const char* in, int size);
  static long control(BIO* bio, int command, long number, void* pointer);

  /// Where view_ points: into the bytes of the current delivery, or into kept_.
  enum class InputSource : std::uint8_t { transport, kept };

  Bytes view_;        // unread ciphertext: (a tail of) the current delivery, or of kept_
  std::string kept_;  // unread ciphertext that outlived the delivery it came in
  InputSource source_ = InputSource::transport;
  std::string outgoing_;  // OpenSSL's records, until the protocol hands them on
  std::string handedOn_;  // what the last takeOutgoing returned
};

}  // namespace torsion::tls::detail
