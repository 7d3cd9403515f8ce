// Public. The testing helpers, like Twisted's proto_helpers and task.Clock, in one include.
#pragma once

/// @file
/// Test doubles for protocols, factories and timed code, so that they are tested
/// without sockets or sleeping:
/// - torsion::testing::StringTransport: a Transport that records writes and plays the peer;
/// - torsion::testing::MemoryReactor: implements the reactor interfaces, records
///   listens and connects (TCP, Unix, UDP), and plays the network through its ports,
///   connectors and datagram transports;
/// - torsion::testing::Clock: an IReactorTime whose time the test advances;
/// - torsion::testing::connectedServerAndClient and IOPump: two protocols connected in
///   memory, with bytes moved when the test pumps (Twisted's iosim).

#include <torsion/testing/clock.hpp>
#include <torsion/testing/loopback.hpp>
#include <torsion/testing/memory_reactor.hpp>
#include <torsion/testing/string_transport.hpp>
