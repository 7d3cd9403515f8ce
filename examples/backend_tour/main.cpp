// backend_tour: the lesson of the multiplexers, measured. For each backend built here,
// one ping-pong connection's round trip beside N idle connections (select and poll scan
// every descriptor on every wait: O(n); epoll and kqueue report only the ready ones:
// O(1)); then the reactor against the thread-per-connection threaded_echo with many
// concurrent clients (latency, memory, threads).
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include <torsion/torsion.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "probes.hpp"
#include "server_process.hpp"

namespace {

// select() handles descriptors below FD_SETSIZE; the server needs a few of its own
// (listener, wake-up pipe, stdio) besides the idle connections.
constexpr int selectIdleLimit = FD_SETSIZE - 24;

// The soft descriptor limit is often 1024; lift it to the hard limit for us and the
// servers we start (children inherit it).
void raiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string besideThisProgram(const char* sibling) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return sibling;
  return (self.parent_path().parent_path() / sibling / sibling).string();
}

struct Options {
  int idle = 1000;
  std::vector<int> clients{100, 500, 1000};
  int idleRounds = 2000;
  int loadRounds = 20;
  std::vector<std::string> backends = torsion::Reactor::availableBackends();
  std::string echoServer = besideThisProgram("echo_server");
  std::string threadedEcho = besideThisProgram("threaded_echo");
};

void idleTable(const Options& options) {
  std::printf("Round trip of one active connection beside idle ones (%d round trips of 64 bytes)\n\n",
              options.idleRounds);
  std::printf("| backend | idle connections | p50 (us) | p99 (us) | note |\n");
  std::printf("|---------|-----------------:|---------:|---------:|------|\n");
  for (const auto& backend : options.backends) {
    std::vector<int> counts{0, options.idle};
    std::string note;
    if (backend == "select" && options.idle > selectIdleLimit) {
      counts.back() = selectIdleLimit;
      note = "select stops at FD_SETSIZE (" + std::to_string(FD_SETSIZE) + " descriptors)";
    }
    for (int idle : counts) {
      tour::ServerProcess server({options.echoServer, "--port", "0", "--reactor", backend});
      const auto latencies = tour::pingBesideIdle(server, idle, options.idleRounds);
      std::printf("| %-7s | %16d | %8.1f | %8.1f | %s |\n", backend.c_str(), idle, latencies.percentile(50),
                  latencies.percentile(99), idle == counts.back() ? note.c_str() : "");
      std::fflush(stdout);
    }
  }
  std::printf("\n");
}

void loadTable(const Options& options) {
  const std::string reactorLabel = "torsion (" + torsion::Reactor::defaultBackend() + ")";
  std::printf("Concurrent echo clients, %d round trips of 64 bytes each; server measured at full load\n\n",
              options.loadRounds);
  std::printf("| server                 | clients | p50 (us) | p99 (us) | time (s) | RSS (MiB) | threads | failed |\n");
  std::printf("|------------------------|--------:|---------:|---------:|---------:|----------:|--------:|-------:|\n");
  for (int clients : options.clients) {
    for (int threaded = 0; threaded < 2; ++threaded) {
      std::vector<std::string> argv{threaded ? options.threadedEcho : options.echoServer, "--port", "0"};
      tour::ServerProcess server(argv);
      const auto result = tour::concurrentEcho(server, clients, options.loadRounds, 30);
      std::printf("| %-22s | %7d | %8.1f | %8.1f | %8.2f | %9.1f | %7ld | %6d |\n",
                  threaded ? "threaded_echo" : reactorLabel.c_str(), clients, result.latencies.percentile(50),
                  result.latencies.percentile(99), result.seconds, static_cast<double>(result.peakRssKiB) / 1024.0,
                  result.peakThreads, result.latencies.failed);
      std::fflush(stdout);
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  torsion_examples::CommandLine cli("backend_tour",
                                    "Measures every backend built here beside idle connections (the O(n) vs O(1) "
                                    "lesson), then the reactor against threaded_echo with many concurrent clients; "
                                    "prints both as Markdown tables.");
  cli.option("--idle", "N", "idle connections beside the active one (default 1000)",
             [&](std::string_view v) { options.idle = torsion_examples::parseNumber<int>(v, 0, 9000); });
  cli.option("--clients", "LIST", "concurrent client counts, comma-separated (default 100,500,1000)",
             [&](std::string_view v) { options.clients = torsion_examples::parseNumberList<int>(v, 1, 9000); });
  cli.option("--rounds", "N", "round trips of the active connection (default 2000)",
             [&](std::string_view v) { options.idleRounds = torsion_examples::parseNumber<int>(v, 1, 1000000); });
  cli.option("--load-rounds", "N", "round trips of each concurrent client (default 20)",
             [&](std::string_view v) { options.loadRounds = torsion_examples::parseNumber<int>(v, 1, 100000); });
  cli.option("--backends", "LIST", "backends to measure (default: every one built here)", [&](std::string_view v) {
    options.backends.clear();
    const auto available = torsion::Reactor::availableBackends();
    for (std::string_view rest = v; !rest.empty();) {
      const auto comma = rest.find(',');
      std::string name(rest.substr(0, comma));
      if (std::find(available.begin(), available.end(), name) == available.end()) {
        throw std::invalid_argument("'" + name + "' is not a backend built here");
      }
      options.backends.push_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  });
  cli.option("--echo-server", "PATH", "the echo_server program (default: beside this one)",
             [&](std::string_view v) { options.echoServer = std::string(v); });
  cli.option("--threaded-echo", "PATH", "the threaded_echo program (default: beside this one)",
             [&](std::string_view v) { options.threadedEcho = std::string(v); });
  cli.parse(argc, argv);

  raiseDescriptorLimit();
  // The servers log "Received SIGTERM" when the tour stops them; only problems matter here.
  ::setenv("TORSION_LOG_LEVEL", "warn", 0);
  try {
    const auto start = std::chrono::steady_clock::now();
    idleTable(options);
    loadTable(options);
    std::printf("backend_tour: done in %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const std::exception& error) {
    std::cerr << "backend_tour: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
