// Test support: the names every socket suite (conformance/, transports/) uses, brought in
// once here instead of a block of using-declarations at the top of each file.
#pragma once

#include "loopback_server.hpp"
#include "raw_socket.hpp"
#include "reactor_test_support.hpp"
#include "scripted_protocols.hpp"

using torsion_test::BackendTest;
using torsion_test::Built;
using torsion_test::Fd;
using torsion_test::LogCapture;
using torsion_test::now;
using torsion_test::runUntil;
using torsion_test::ScriptedClientFactory;
using torsion_test::ScriptedHalfCloseProtocol;
using torsion_test::ScriptedProtocol;
