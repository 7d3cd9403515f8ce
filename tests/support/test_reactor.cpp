// Test support: see test_reactor.hpp.
#include "test_reactor.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#if TORSION_TEST_WITH_ASIO
#include <torsion/asio_reactor.hpp>

#include <asio/io_context.hpp>
#endif

namespace torsion_test {

namespace {

struct Attached {
  asio::io_context* context;
  bool started = false;  // the io_context has started the reactor
};

// Which reactors are attached, so that the free helpers (runUntil, runWithDeadline)
// can drive them through their io_context without every test passing it along.
std::mutex registryMutex;
std::map<const torsion::Reactor*, Attached>& registry() {
  static std::map<const torsion::Reactor*, Attached> attached;
  return attached;
}

Attached* entryOf(const torsion::Reactor& reactor) {
  std::lock_guard lock(registryMutex);
  auto found = registry().find(&reactor);
  return found == registry().end() ? nullptr : &found->second;
}

}  // namespace

std::vector<std::string> backendsUnderTest() {
  auto names = torsion::Reactor::availableBackends();
#if TORSION_TEST_WITH_ASIO
  if (std::find(names.begin(), names.end(), "asio") != names.end()) names.emplace_back(kAsioAttached);
#endif
  return names;
}

TestReactor::TestReactor(std::string_view backend) {
#if TORSION_TEST_WITH_ASIO
  if (backend == kAsioAttached) {
    context_ = std::make_unique<asio::io_context>();
    reactor_ = torsion::attachToIoContext(*context_);
    std::lock_guard lock(registryMutex);
    registry()[reactor_.get()] = Attached{context_.get()};
    return;
  }
#endif
  reactor_ = std::make_unique<torsion::Reactor>(backend);
}

TestReactor::TestReactor(TestReactor&& other) noexcept = default;

TestReactor::~TestReactor() {
  if (context_ && reactor_) {
    std::lock_guard lock(registryMutex);
    registry().erase(reactor_.get());
  }
  reactor_.reset();  // the io_context must outlive the reactor
  context_.reset();
}

bool isAttached(const torsion::Reactor& reactor) { return entryOf(reactor) != nullptr; }

void step(torsion::Reactor& reactor, double seconds) {
#if TORSION_TEST_WITH_ASIO
  if (Attached* attached = entryOf(reactor)) {
    // Not started yet (the io_context's first handler starts it), or running.
    if (!attached->started || reactor.running()) {
      asio::io_context& context = *attached->context;
      if (context.stopped()) context.restart();
      const auto limit = std::chrono::duration<double>(std::max(seconds, 0.0));
      context.run_one_for(std::chrono::duration_cast<std::chrono::nanoseconds>(limit));
      if (reactor.running()) attached->started = true;
      return;
    }
  }
#endif
  reactor.iterate(seconds);
}

void run(torsion::Reactor& reactor) {
#if TORSION_TEST_WITH_ASIO
  if (Attached* attached = entryOf(reactor); attached && reactor.running()) {
    asio::io_context& context = *attached->context;
    if (context.stopped()) context.restart();
    context.run();  // returns once the stopped reactor has withdrawn its handlers
    return;
  }
#endif
  reactor.run(false);
}

}  // namespace torsion_test
