// Internal. Turns what OpenSSL reports about a failed handshake or record into a TLSError
// whose kind and message name the cause.
#pragma once

#include <openssl/ssl.h>
#include <torsion/tls/errors.hpp>

#include <string>

namespace torsion::tls::detail {

/// The TLSError for a failed SSL call on `ssl` (the error queue of this thread is read
/// and cleared). `handshaking` picks the wording; `hostname` names what was verified.
TLSError classifyFailure(SSL* ssl, bool handshaking, const std::string& hostname);

}  // namespace torsion::tls::detail
