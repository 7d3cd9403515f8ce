#include <torsion/errors.hpp>
#include <torsion/reactor_pool.hpp>

#include <stdexcept>

#include "reactor_access.hpp"
#include "tcp_port.hpp"

namespace torsion {

ReactorPool::ReactorPool(std::size_t size, std::string_view backend) {
  if (size == 0) size = std::max(1u, std::thread::hardware_concurrency());
  reactors_.reserve(size);
  for (std::size_t i = 0; i < size; ++i) reactors_.push_back(std::make_unique<Reactor>(backend));
  // Whichever reactor stops first (stop(), a signal caught by reactor 0, a protocol
  // calling its own reactor's stop) takes the others down with it.
  for (auto& reactor : reactors_) {
    reactor->addSystemEventTrigger(EventPhase::before, "shutdown", [this] { stopAll(); });
  }
}

ReactorPool::~ReactorPool() {
  stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::vector<std::shared_ptr<ListeningPort>> ReactorPool::listenTCP(std::uint16_t port, const FactoryMaker& makeFactory,
                                                                   int backlog, std::string_view interface) {
  if (running()) throw std::logic_error("ReactorPool::listenTCP called while the pool runs");
  std::vector<std::shared_ptr<ListeningPort>> ports;
  const std::string host(interface);
  try {
    for (std::size_t i = 0; i < reactors_.size(); ++i) {
      auto factory = makeFactory(i, *reactors_[i]);
      if (!factory) throw std::invalid_argument("ReactorPool::listenTCP: the factory maker returned null");
      // The first socket picks the port when asked for 0; the others join it.
      const std::uint16_t bound = ports.empty() ? port : ports.front()->getHost().port;
      int fd = detail::listenStreamSocket(host, bound, backlog, detail::PortSharing::reusePort);
      try {
        ports.push_back(
            detail::StreamPort::start(detail::ReactorAccess::core(*reactors_[i]), fd, std::move(factory), true, {}));
      } catch (const BackendLimitError& error) {
        throw CannotListenError(host, bound, error.what());
      }
    }
  } catch (...) {
    for (auto& opened : ports) opened->stopListening();
    throw;
  }
  return ports;
}

void ReactorPool::run(bool installSignalHandlers) {
  if (running_.exchange(true, std::memory_order_acq_rel)) {
    throw std::logic_error("ReactorPool::run called while the pool runs");
  }
  for (std::size_t i = 1; i < reactors_.size(); ++i) {
    Reactor& reactor = *reactors_[i];
    threads_.emplace_back([&reactor] { reactor.run(false); });
  }
  // A stop that came before run, or while the threads started: every reactor sees it
  // in its first pass.
  if (stopRequested_.load(std::memory_order_acquire)) stopAll();
  reactors_[0]->run(installSignalHandlers);
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  stopRequested_.store(false, std::memory_order_release);
  running_.store(false, std::memory_order_release);
}

void ReactorPool::stop() {
  stopRequested_.store(true, std::memory_order_release);
  if (running()) stopAll();
}

void ReactorPool::stopAll() {
  stopRequested_.store(true, std::memory_order_release);
  for (auto& reactor : reactors_) {
    Reactor* target = reactor.get();
    target->callFromThread([this, target] { stopIfAsked(*target); });
  }
}

void ReactorPool::stopIfAsked(Reactor& reactor) {
  // A call queued by the previous run's cascade, reached only in the next run, finds the
  // request cleared and leaves that run alone.
  if (!stopRequested_.load(std::memory_order_acquire)) return;
  try {
    if (reactor.running()) reactor.stop();
  } catch (const ReactorNotRunning&) {
    // already stopping
  }
}

}  // namespace torsion
