// load_server: the server of bench/load/run. An echo server (TCP_NODELAY) that says what
// it holds, so the load runs can show that nothing leaks:
//
//   listening on 127.0.0.1:PORT (BACKEND backend)      once accepting
//   sample accepted=N live=L fds=F rss_kb=R            after every --sample-every accepts
//   final accepted=N live=L fds=F rss_kb=R             on SIGINT/SIGTERM, before closing
//
// `live` counts Protocol objects that exist (constructed and not yet destroyed), `fds`
// the process's open descriptors (/proc/self/fd), `rss_kb` VmRSS.
//
// usage: load_server [--port P] [--reactor NAME] [--sample-every N]
#include <dirent.h>

#include <torsion/torsion.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

long liveProtocols = 0;  // one reactor thread: no atomics needed
long acceptedConnections = 0;
long sampleEvery = 0;

int openDescriptors() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
    ::closedir(dir);
    --count;  // the directory's own descriptor
  }
  return count;
}

long rssKb() {
  long kb = 0;
  if (std::FILE* status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, status)) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::strtol(line + 6, nullptr, 10);
    }
    std::fclose(status);
  }
  return kb;
}

void report(const char* what) {
  std::printf("%s accepted=%ld live=%ld fds=%d rss_kb=%ld\n", what, acceptedConnections, liveProtocols,
              openDescriptors(), rssKb());
  std::fflush(stdout);
}

class CountedEcho : public torsion::Protocol {
 public:
  CountedEcho() { ++liveProtocols; }
  ~CountedEcho() override { --liveProtocols; }
  CountedEcho(const CountedEcho&) = delete;
  CountedEcho& operator=(const CountedEcho&) = delete;

  void connectionMade() override {
    transport().setTcpNoDelay(true);
    ++acceptedConnections;
    if (sampleEvery > 0 && acceptedConnections % sampleEvery == 0) report("sample");
  }
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  std::string backend;
  for (int i = 1; i < argc; ++i) {
    const bool more = i + 1 < argc;
    if (std::strcmp(argv[i], "--port") == 0 && more) {
      port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--reactor") == 0 && more) {
      backend = argv[++i];
    } else if (std::strcmp(argv[i], "--sample-every") == 0 && more) {
      sampleEvery = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: load_server [--port P] [--reactor NAME] [--sample-every N]\n");
      return 2;
    }
  }
  try {
    torsion::Reactor reactor(backend);
    auto listening = reactor.listenTCP(port, torsion::Factory::forProtocol<CountedEcho>(), 4096, "127.0.0.1");
    reactor.callWhenRunning([&] {
      std::printf("listening on %s (%s backend)\n", listening->getHost().toString().c_str(),
                  reactor.backendName().c_str());
      report("baseline");
    });
    reactor.addSystemEventTrigger(torsion::EventPhase::before, "shutdown", [] { report("final"); });
    reactor.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "load_server: %s\n", error.what());
    return 1;
  }
  return 0;
}
