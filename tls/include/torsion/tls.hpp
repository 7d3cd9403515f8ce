// Public. Everything of torsion::tls: TLS over any stream transport, on OpenSSL.
#pragma once

#include <torsion/tls/endpoints.hpp>
#include <torsion/tls/errors.hpp>
#include <torsion/tls/options.hpp>
#include <torsion/tls/ssl.hpp>
#include <torsion/tls/tls_factory.hpp>
#include <torsion/tls/tls_transport.hpp>
