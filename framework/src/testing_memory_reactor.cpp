#include <torsion/errors.hpp>
#include <torsion/testing/memory_reactor.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

#include "log_unhandled.hpp"
#include "system_event_triggers.hpp"

namespace torsion::testing {

namespace {
Address addressOf(std::string_view host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  return Address{ipv6 ? Address::Family::ipv6 : Address::Family::ipv4, std::string(host), port};
}

const char* stateName(Connector::State state) {
  switch (state) {
    case Connector::State::disconnected: return "disconnected";
    case Connector::State::connecting: return "connecting";
    case Connector::State::connected: return "connected";
  }
  return "?";
}
}  // namespace

// ---------------------------------------------------------------- MemoryListeningPort

MemoryListeningPort::MemoryListeningPort(Address host, std::shared_ptr<Factory> factory)
    : host_(std::move(host)), factory_(std::move(factory)) {
  factory_->doStart();
}

void MemoryListeningPort::stopListening() {
  if (!listening_) return;
  listening_ = false;
  factory_->doStop();
}

AcceptedConnection MemoryListeningPort::accept(std::optional<Address> peer) {
  if (!listening_) throw std::logic_error("MemoryListeningPort::accept: the port no longer listens");
  if (!peer) {
    peer = host_.family == Address::Family::unixSocket ? Address{Address::Family::unixSocket, "", 0}
                                                       : Address{Address::Family::ipv4, "192.168.1.1", 54321};
  }
  std::shared_ptr<Protocol> protocol = factory_->buildProtocol(*peer);
  if (!protocol) return {};
  auto transport = std::make_shared<StringTransport>(host_, std::move(*peer));
  transport->makeConnection(*protocol);
  return {std::move(protocol), std::move(transport)};
}

// ---------------------------------------------------------------- MemoryConnector

MemoryConnector::MemoryConnector(Address destination, std::shared_ptr<ClientFactory> factory)
    : destination_(std::move(destination)), factory_(std::move(factory)) {}

void MemoryConnector::requireState(State state, const char* what) const {
  if (state_ != state) {
    throw std::logic_error(std::string("MemoryConnector::") + what + ": the connector is " + stateName(state_) +
                           ", not " + stateName(state));
  }
}

void MemoryConnector::startAttempt() {
  state_ = State::connecting;
  // As a real connector: the factory is started for the first attempt and stopped
  // once an attempt ends with nobody connecting again.
  if (!factoryStarted_) {
    factoryStarted_ = true;
    factory_->doStart();
  }
  factory_->startedConnecting(*this);
}

void MemoryConnector::endAttempt() {
  if (state_ == State::disconnected && factoryStarted_) {
    factoryStarted_ = false;
    factory_->doStop();
  }
}

void MemoryConnector::connect() {
  requireState(State::disconnected, "connect");
  ++connectCalls_;
  startAttempt();
}

void MemoryConnector::stopConnecting() {
  requireState(State::connecting, "stopConnecting");
  stoppedConnecting_ = true;
  state_ = State::disconnected;
  factory_->clientConnectionFailed(*this, Failure(ConnectingCancelledError()));
  endAttempt();
}

void MemoryConnector::disconnect() {
  ++disconnectCalls_;
  if (state_ == State::connecting) {
    stopConnecting();
  } else if (state_ == State::connected) {
    transport_->loseConnection();
  }
}

std::shared_ptr<Transport> MemoryConnector::transport() const {
  return state_ == State::connected ? transport_ : nullptr;
}

std::shared_ptr<StringTransport> MemoryConnector::completeConnection() {
  requireState(State::connecting, "completeConnection");
  std::shared_ptr<Protocol> protocol = factory_->buildProtocol(destination_);
  if (!protocol) {
    failConnection(Failure(ConnectError("The factory built no protocol for the connection.")));
    return nullptr;
  }
  state_ = State::connected;
  protocol_ = std::move(protocol);
  // A Unix client's own end has no name, as an unbound Unix socket.
  Address host = destination_.family == Address::Family::unixSocket ? Address{Address::Family::unixSocket, "", 0}
                                                                    : Address{Address::Family::ipv4, "10.0.0.1", 12345};
  transport_ = std::make_shared<StringTransport>(std::move(host), destination_);
  transport_->makeConnection(*protocol_);
  return transport_;
}

void MemoryConnector::failConnection(const Failure& reason) {
  requireState(State::connecting, "failConnection");
  state_ = State::disconnected;
  factory_->clientConnectionFailed(*this, reason);
  endAttempt();
}

void MemoryConnector::dropConnection(const Failure& reason) {
  requireState(State::connected, "dropConnection");
  state_ = State::disconnected;
  auto transport = std::move(transport_);
  auto protocol = std::move(protocol_);  // alive until connectionLost has returned
  transport->reportConnectionLost(reason);
  factory_->clientConnectionLost(*this, reason);
  endAttempt();
}

// ---------------------------------------------------------------- MemoryDatagramTransport

MemoryDatagramTransport::MemoryDatagramTransport(Address host, std::weak_ptr<DatagramProtocol> protocol)
    : host_(std::move(host)), protocol_(std::move(protocol)) {}

void MemoryDatagramTransport::write(Bytes data, const Address& to) {
  if (connectedTo_ && to != *connectedTo_) {
    throw std::logic_error("DatagramTransport::write: connected to another address");
  }
  if (!listening_) return;
  written.push_back({std::string(data), to});
}

void MemoryDatagramTransport::write(Bytes data) {
  if (!connectedTo_) throw std::logic_error("DatagramTransport::write without an address: not connected");
  write(data, *connectedTo_);
}

void MemoryDatagramTransport::connect(const Address& address) {
  if (address.family != host_.family) {
    throw std::invalid_argument("DatagramTransport::connect: '" + address.toString() + "' is of another family");
  }
  connectedTo_ = address;
}

void MemoryDatagramTransport::stopListening() {
  if (!listening_) return;
  listening_ = false;
  if (auto protocol = protocol_.lock()) protocol->stopProtocol();
}

void MemoryDatagramTransport::receive(Bytes data, const Address& from) {
  if (!listening_ || (connectedTo_ && from != *connectedTo_)) return;
  if (auto protocol = protocol_.lock()) protocol->datagramReceived(data, from);
}

void MemoryDatagramTransport::reportConnectionRefused() {
  if (!connectedTo_) throw std::logic_error("MemoryDatagramTransport::reportConnectionRefused: not connected");
  if (!listening_) return;
  if (auto protocol = protocol_.lock()) protocol->connectionRefused();
}

// ---------------------------------------------------------------- MemoryReactor

MemoryReactor::~MemoryReactor() { failPendingConnections(); }

void MemoryReactor::failPendingConnections() noexcept {
  // As ReactorCore's shutdown: an attempt nobody ends would leave its factory started
  // and an endpoint's Deferred pending forever. A count taken first bounds the loop when
  // a factory connects again from clientConnectionFailed.
  const std::size_t count = connectors.size();
  for (std::size_t i = 0; i < count; ++i) {
    std::shared_ptr<MemoryConnector> connector = connectors[i];
    if (connector->state() != Connector::State::connecting) continue;
    try {
      connector->failConnection(Failure(ConnectingCancelledError("The reactor was destroyed.")));
    } catch (...) {
      detail::logUnhandled("shutdown", std::current_exception());
    }
  }
}

std::shared_ptr<ListeningPort> MemoryReactor::listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                                        int backlog, std::string_view interface) {
  auto listening =
      std::make_shared<MemoryListeningPort>(addressOf(interface.empty() ? "0.0.0.0" : interface, port), factory);
  tcpServers.push_back({port, std::move(factory), backlog, std::string(interface), listening});
  return listening;
}

std::shared_ptr<Connector> MemoryReactor::connectTCP(std::string_view host, std::uint16_t port,
                                                     std::shared_ptr<ClientFactory> factory, double timeout,
                                                     std::optional<Address> bindAddress) {
  tcpClients.push_back({std::string(host), port, factory, timeout, bindAddress});
  return startConnector(addressOf(host, port), std::move(factory));
}

std::shared_ptr<ListeningPort> MemoryReactor::listenUNIX(std::string_view path, std::shared_ptr<Factory> factory,
                                                         int backlog) {
  auto listening =
      std::make_shared<MemoryListeningPort>(Address{Address::Family::unixSocket, std::string(path), 0}, factory);
  unixServers.push_back({std::string(path), std::move(factory), backlog, listening});
  return listening;
}

std::shared_ptr<Connector> MemoryReactor::connectUNIX(std::string_view path, std::shared_ptr<ClientFactory> factory,
                                                      double timeout) {
  unixClients.push_back({std::string(path), factory, timeout});
  return startConnector(Address{Address::Family::unixSocket, std::string(path), 0}, std::move(factory));
}

std::shared_ptr<MemoryConnector> MemoryReactor::startConnector(Address destination,
                                                               std::shared_ptr<ClientFactory> factory) {
  auto connector = std::make_shared<MemoryConnector>(std::move(destination), std::move(factory));
  connectors.push_back(connector);
  connector->startAttempt();
  return connector;
}

std::shared_ptr<DatagramTransport> MemoryReactor::listenUDP(std::uint16_t port,
                                                            std::shared_ptr<DatagramProtocol> protocol,
                                                            std::string_view interface, std::size_t maxPacketSize) {
  if (!protocol) throw std::invalid_argument("listenUDP: the protocol is null");
  // The transport holds its protocol weakly (the record below keeps it alive): a strong
  // pointer each way would be a cycle that outlives the test.
  auto transport =
      std::make_shared<MemoryDatagramTransport>(addressOf(interface.empty() ? "0.0.0.0" : interface, port), protocol);
  udpPorts.push_back({port, protocol, std::string(interface), maxPacketSize, transport});
  protocol->makeConnection(transport);
  return transport;
}

void MemoryReactor::callFromThread(std::function<void()> fn) {
  std::lock_guard lock(threadCallsMutex_);
  threadCalls_.push_back(std::move(fn));
}

void MemoryReactor::callInThread(std::function<void()> fn) { poolJobs_.push_back(std::move(fn)); }

void MemoryReactor::suggestThreadPoolSize(std::size_t maxThreads) {
  if (maxThreads == 0) throw std::invalid_argument("suggestThreadPoolSize: the pool needs at least one thread");
  threadPoolSize = maxThreads;
}

std::size_t MemoryReactor::runCallsFromThreads() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(threadCallsMutex_);
    due.swap(threadCalls_);
  }
  for (auto& call : due) call();
  return due.size();
}

std::size_t MemoryReactor::runThreadPoolJobs() {
  auto due = std::exchange(poolJobs_, {});
  for (auto& job : due) job();
  return due.size();
}

std::size_t MemoryReactor::pendingCallsFromThreads() const {
  std::lock_guard lock(threadCallsMutex_);
  return threadCalls_.size();
}

void MemoryReactor::run(bool installSignalHandlers) {
  if (running_) throw std::logic_error("MemoryReactor::run: already running");
  running_ = true;
  hasRun = true;
  signalHandlersRequested = installSignalHandlers;
  fireSystemEvent("startup");
  auto hooks = std::move(whenRunning_);
  whenRunning_.clear();
  for (auto& hook : hooks) hook();
  if (running_) stop();
}

void MemoryReactor::stop() {
  if (!running_) throw ReactorNotRunning();
  running_ = false;
  hasStopped = true;
  fireSystemEvent("shutdown");
}

void MemoryReactor::callWhenRunning(std::function<void()> fn) {
  if (running_) {
    fn();
  } else {
    whenRunning_.push_back(std::move(fn));
  }
}

MemoryReactor::TriggerId MemoryReactor::addSystemEventTrigger(EventPhase phase, std::string_view eventType,
                                                              std::function<void()> fn) {
  return detail::SystemEventTriggers(triggers, nextTrigger_).add(phase, eventType, std::move(fn));
}

void MemoryReactor::removeSystemEventTrigger(TriggerId id) {
  detail::SystemEventTriggers(triggers, nextTrigger_).remove(id);
}

void MemoryReactor::fireSystemEvent(std::string_view eventType) {
  // As on a Reactor: a trigger's exception is logged and the other triggers still run.
  static const std::function<void(std::exception_ptr)> triggerError = [](std::exception_ptr e) {
    detail::logUnhandled("a system event trigger", std::move(e));
  };
  detail::SystemEventTriggers(triggers, nextTrigger_).fire(eventType, triggerError);
}

void MemoryReactor::add(std::vector<Selectable*>& set, Selectable& selectable) {
  if (std::find(set.begin(), set.end(), &selectable) == set.end()) set.push_back(&selectable);
}

void MemoryReactor::remove(std::vector<Selectable*>& set, Selectable& selectable) {
  set.erase(std::remove(set.begin(), set.end(), &selectable), set.end());
}

}  // namespace torsion::testing
