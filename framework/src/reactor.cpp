// The public Reactor: argument checks and TCP set-up; the loop itself is ReactorCore.
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include <stdexcept>

#include "reactor_core.hpp"
#include "tcp_connector.hpp"
#include "tcp_port.hpp"
#include "udp_port.hpp"
#include "unix_socket.hpp"

namespace torsion {

Reactor::Reactor(std::string_view backend) : core_(std::make_unique<detail::ReactorCore>(*this, backend)) {}

Reactor::Reactor(std::unique_ptr<detail::Backend> backend)
    : core_(std::make_unique<detail::ReactorCore>(*this, std::move(backend))) {}

Reactor::~Reactor() = default;

std::vector<std::string> Reactor::availableBackends() { return detail::availableBackendNames(); }

std::string Reactor::defaultBackend() { return detail::defaultBackendName(); }

const std::string& Reactor::backendName() const noexcept { return core_->backendName(); }

void Reactor::run(bool installSignalHandlers) { core_->run(installSignalHandlers); }

void Reactor::stop() { core_->stop(); }

void Reactor::iterate(double timeoutSeconds) { core_->iterate(timeoutSeconds < 0 ? 0 : timeoutSeconds); }

bool Reactor::running() const noexcept { return core_->running(); }

double Reactor::seconds() const { return core_->seconds(); }

DelayedCall Reactor::callLater(double delaySeconds, std::function<void()> fn) {
  core_->assertInLoopThread("Reactor::callLater");
  return core_->timers().schedule(delaySeconds, std::move(fn));
}

std::vector<DelayedCall> Reactor::getDelayedCalls() const { return core_->timers().pending(); }

void Reactor::callWhenRunning(std::function<void()> fn) { core_->callWhenRunning(std::move(fn)); }

void Reactor::callFromThread(std::function<void()> fn) { core_->threadCalls().push(std::move(fn)); }

void Reactor::callInThread(std::function<void()> fn) { core_->callInThread(std::move(fn)); }

void Reactor::suggestThreadPoolSize(std::size_t maxThreads) { core_->suggestThreadPoolSize(maxThreads); }

Reactor::TriggerId Reactor::addSystemEventTrigger(EventPhase phase, std::string_view eventType,
                                                  std::function<void()> fn) {
  return core_->addTrigger(phase, eventType, std::move(fn));
}

void Reactor::removeSystemEventTrigger(TriggerId id) { core_->removeTrigger(id); }

void Reactor::fireSystemEvent(std::string_view eventType) { core_->fireSystemEvent(eventType); }

void Reactor::addReader(Selectable& selectable) {
  core_->assertInLoopThread("Reactor::addReader");
  core_->setInterest(selectable, core_->interest(selectable.fileno()) | detail::kReadable);
}

void Reactor::addWriter(Selectable& selectable) {
  core_->assertInLoopThread("Reactor::addWriter");
  core_->setInterest(selectable, core_->interest(selectable.fileno()) | detail::kWritable);
}

void Reactor::removeReader(Selectable& selectable) {
  core_->assertInLoopThread("Reactor::removeReader");
  core_->setInterest(selectable, core_->interest(selectable.fileno()) & ~detail::kReadable);
}

void Reactor::removeWriter(Selectable& selectable) {
  core_->assertInLoopThread("Reactor::removeWriter");
  core_->setInterest(selectable, core_->interest(selectable.fileno()) & ~detail::kWritable);
}

void Reactor::removeAll(Selectable& selectable) {
  core_->assertInLoopThread("Reactor::removeAll");
  core_->forget(selectable);
}

std::shared_ptr<ListeningPort> Reactor::listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory, int backlog,
                                                  std::string_view interface) {
  core_->assertInLoopThread("Reactor::listenTCP");
  if (!factory) throw std::invalid_argument("listenTCP: factory is null");
  std::string host(interface);
  int fd = detail::listenStreamSocket(host, port, backlog);
  try {
    return detail::StreamPort::start(*core_, fd, std::move(factory), true, {});
  } catch (const BackendLimitError& error) {
    throw CannotListenError(host, port, error.what());
  }
}

std::shared_ptr<Connector> Reactor::connectTCP(std::string_view host, std::uint16_t port,
                                               std::shared_ptr<ClientFactory> factory, double timeout,
                                               std::optional<Address> bindAddress) {
  core_->assertInLoopThread("Reactor::connectTCP");
  if (!factory) throw std::invalid_argument("connectTCP: factory is null");
  auto connector = std::make_shared<detail::TcpConnector>(*core_, std::string(host), port, std::move(factory), timeout,
                                                          std::move(bindAddress), std::string());
  connector->connect();
  return connector;
}

std::shared_ptr<ListeningPort> Reactor::listenUNIX(std::string_view path, std::shared_ptr<Factory> factory,
                                                   int backlog) {
  core_->assertInLoopThread("Reactor::listenUNIX");
  if (!factory) throw std::invalid_argument("listenUNIX: factory is null");
  std::string file(path);
  int fd = detail::listenUnixSocket(file, backlog);
  try {
    return detail::StreamPort::start(*core_, fd, std::move(factory), false, file);
  } catch (const BackendLimitError& error) {
    throw CannotListenError(file, error.what());
  }
}

std::shared_ptr<Connector> Reactor::connectUNIX(std::string_view path, std::shared_ptr<ClientFactory> factory,
                                                double timeout) {
  core_->assertInLoopThread("Reactor::connectUNIX");
  if (!factory) throw std::invalid_argument("connectUNIX: factory is null");
  auto connector = std::make_shared<detail::TcpConnector>(*core_, std::string(), 0, std::move(factory), timeout,
                                                          std::nullopt, std::string(path));
  connector->connect();
  return connector;
}

std::shared_ptr<DatagramTransport> Reactor::listenUDP(std::uint16_t port, std::shared_ptr<DatagramProtocol> protocol,
                                                      std::string_view interface, std::size_t maxPacketSize) {
  core_->assertInLoopThread("Reactor::listenUDP");
  if (!protocol) throw std::invalid_argument("listenUDP: protocol is null");
  return detail::DatagramPort::open(*core_, port, std::move(protocol), std::string(interface), maxPacketSize);
}

}  // namespace torsion
