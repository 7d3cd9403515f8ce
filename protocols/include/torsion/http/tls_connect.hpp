// Public. tlsConnect: the ConnectFunction that opens https connections with torsion::tls
// (verified against a trust root, SNI and host name from the URL) and http ones in plain.
#pragma once

#include <torsion/http/connect_function.hpp>
#include <torsion/tls/options.hpp>

namespace torsion::http {

/// A ConnectFunction that speaks TLS for "https" and plain TCP for "http": for https it
/// connects `wrapClientFactory(optionsForClientTLS(key.host, trustRoot), factory)`, so
/// the server's certificate must chain to `trustRoot` and match the URL's host name (or
/// IP literal); a failed verification ends the connection with a torsion::tls::TLSError
/// before any request byte is sent. The TLS options are made once per host name and kept
/// by the returned function (and its copies), so later connections to a host reuse the
/// OpenSSL context and resume its TLS session.
///
/// The default of AgentOptions::connect (with AgentOptions::trustRoot), so
/// `getPage(reactor, "https://...")` is verified TLS with no extra code.
///
/// @code
/// torsion::http::AgentOptions options;
/// options.connect = torsion::http::tlsConnect(torsion::tls::TrustRoot::fromCAFile("ca.pem"));
/// @endcode
///
/// Thread safety: the returned function may be called (and copied) on several threads.
/// @param trustRoot the roots server certificates must chain to (the system's by default).
/// @param settings ALPN, minimum version, handshake timeout, session resumption.
/// @throws torsion::tls::TLSConfigurationError (from the returned function) if the trust
///         root does not load.
ConnectFunction tlsConnect(tls::TrustRoot trustRoot = tls::platformTrust(), tls::ClientTLSSettings settings = {});

}  // namespace torsion::http
