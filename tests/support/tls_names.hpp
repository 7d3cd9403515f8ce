// Test support: the names the TLS suites (tests/tls/) use, brought in once here instead of
// a block of using-declarations at the top of each file.
#pragma once

#include <torsion/testing.hpp>

#include "reactor_test_support.hpp"
#include "tls_test_support.hpp"

using torsion::testing::StringTransport;
using torsion_test::BackendTest;
using torsion_test::clientOptions;
using torsion_test::Recorder;
using torsion_test::runUntil;
using torsion_test::Seen;
using torsion_test::serverOptions;
using torsion_test::TestCertificates;
using torsion_test::tlsKind;
namespace tls = torsion::tls;
