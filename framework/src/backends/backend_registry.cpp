#include "backend.hpp"

#include <torsion/errors.hpp>

#include <cstdlib>

namespace torsion::detail {

namespace {

struct BackendEntry {
  const char* name;
  std::unique_ptr<Backend> (*make)();
  /// Null if always usable where built; else whether this process can use it (a backend
  /// built but unusable is not listed, and asking for it by name falls back in `make`).
  bool (*usable)() = nullptr;
};

bool listed(const BackendEntry& entry) { return entry.usable == nullptr || entry.usable(); }

// Best first: the first entry is the platform default.
const std::vector<BackendEntry>& builtBackends() {
  static const std::vector<BackendEntry> entries = {
#if defined(TORSION_HAVE_EPOLL)
    {"epoll", makeEpollBackend},
#endif
#if defined(TORSION_HAVE_IO_URING)
    {"io_uring", makeIoUringBackend, ioUringUsable},  // never the default: readiness only, so far
#endif
#if defined(TORSION_HAVE_KQUEUE)
    {"kqueue", makeKqueueBackend},
#endif
    {"poll", makePollBackend},
    {"select", makeSelectBackend},
#if defined(TORSION_HAVE_ASIO)
    {"asio", makeAsioBackend},  // an io_context of its own; never the default
#endif
  };
  return entries;
}

}  // namespace

std::vector<std::string> availableBackendNames() {
  std::vector<std::string> names;
  for (const auto& entry : builtBackends()) {
    if (listed(entry)) names.emplace_back(entry.name);
  }
  return names;
}

std::string defaultBackendName() {
#if defined(TORSION_HAVE_KQUEUE) && !defined(__linux__)
  return "kqueue";  // BSD and macOS; on Linux kqueue exists only through libkqueue
#else
  return builtBackends().front().name;
#endif
}

std::unique_ptr<Backend> makeBackend(std::string_view name) {
  std::string chosen(name);
  if (chosen.empty()) {
    const char* fromEnvironment = std::getenv("TORSION_REACTOR");
    chosen = fromEnvironment && *fromEnvironment ? fromEnvironment : defaultBackendName();
  }
  for (const auto& entry : builtBackends()) {
    if (chosen == entry.name) return entry.make();
  }
  std::string available;
  for (const auto& entry : builtBackends()) {
    if (!listed(entry)) continue;
    if (!available.empty()) available += ", ";
    available += entry.name;
  }
  throw UnsupportedBackendError("no reactor backend named '" + chosen + "' in this build; available: " + available);
}

}  // namespace torsion::detail
