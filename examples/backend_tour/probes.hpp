// backend_tour's two measurements: one ping-pong beside idle connections, and many
// ping-pong clients at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace tour {

/// Round-trip times in microseconds, and what became of the clients.
struct Latencies {
  std::vector<double> micros;
  int failed = 0;

  double percentile(double p) const;
};

/// Opens `idle` connections that never send (plain blocking sockets), waits until the
/// server holds them, then times `rounds` 64-byte round trips on one more connection.
/// @throws std::runtime_error when a connection or round trip fails.
Latencies pingBesideIdle(ServerProcess& server, int idle, int rounds);

/// What a server looked like at full load.
struct LoadResult {
  Latencies latencies;
  double seconds = 0;
  long peakRssKiB = 0;
  long peakThreads = 0;
};

/// `clients` connections at once (one torsion reactor here), each doing `rounds` 64-byte
/// round trips; all stay open until the last is done, when the server is measured.
LoadResult concurrentEcho(ServerProcess& server, int clients, int rounds, double timeoutSeconds);

}  // namespace tour
