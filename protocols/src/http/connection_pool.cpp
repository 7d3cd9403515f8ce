// HTTPConnectionPool: persistent connections per key, a cap per key with a FIFO queue,
// idle timeouts.
#include <torsion/http/connection_pool.hpp>

#include <torsion/errors.hpp>

#include "timer_support.hpp"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace torsion::http {

// Everything the pool knows. Connections, timers and factories refer to it weakly; the
// HTTPConnectionPool (and through it the Agents) own it.
class HTTPConnectionPool::State : public std::enable_shared_from_this<HTTPConnectionPool::State> {
 public:
  State(IReactorTCP& reactor, IReactorTime& clock, PoolOptions options)
      : reactor_(reactor), clock_(clock), options_(std::move(options)) {}

  Deferred<PooledConnection> getConnection(const ConnectionKey& key, const ConnectFunction& connect, double timeout,
                                           bool fresh);
  void closeCachedConnections();
  std::size_t idle(const ConnectionKey& key) const {
    const Host* host = find(key);
    return host != nullptr ? host->idle.size() : 0;
  }
  std::size_t open(const ConnectionKey& key) const {
    const Host* host = find(key);
    return host != nullptr ? host->open : 0;
  }
  std::size_t queued(const ConnectionKey& key) const {
    const Host* host = find(key);
    return host != nullptr ? host->queue.size() : 0;
  }
  const PoolOptions& options() const noexcept { return options_; }

  // Called by the connection factory and the connections.
  std::shared_ptr<HTTP11ClientProtocol> buildProtocol(std::uint64_t attemptId);
  void connected(std::uint64_t attemptId);
  void attemptFailed(std::uint64_t attemptId, const Failure& reason);
  void released(const ConnectionKey& key, HTTP11ClientProtocol& protocol);
  void lost(const ConnectionKey& key, HTTP11ClientProtocol& protocol);

 private:
  class Factory;
  // A request waiting for a connection.
  struct Waiter {
    std::uint64_t id;
    Deferred<PooledConnection> result;
    ConnectFunction connect;
    double timeout;
    bool fresh;
  };
  struct Idle {
    std::shared_ptr<HTTP11ClientProtocol> protocol;
    DelayedCall timer;
  };
  // A connection being opened, for one waiter (or none, once it cancelled).
  struct Attempt {
    ConnectionKey key;
    std::shared_ptr<Waiter> waiter;
    std::shared_ptr<Connector> connector;
    std::shared_ptr<HTTP11ClientProtocol> protocol;
    DelayedCall timer;
    bool timedOut = false;
  };
  struct Host {
    std::deque<std::shared_ptr<Waiter>> queue;
    std::vector<Idle> idle;                                                            // most recently used last
    std::size_t open = 0;                                                              // connecting, busy or idle
    std::map<HTTP11ClientProtocol*, std::weak_ptr<HTTP11ClientProtocol>> connections;  // connected ones
  };

  const Host* find(const ConnectionKey& key) const {
    auto it = hosts_.find(key);
    return it == hosts_.end() ? nullptr : &it->second;
  }
  void startAttempt(const ConnectionKey& key, std::shared_ptr<Waiter> waiter);
  void dispatch(const ConnectionKey& key);
  void hand(const std::shared_ptr<Waiter>& waiter, std::shared_ptr<HTTP11ClientProtocol> protocol, bool reused);
  void cancelWaiter(std::uint64_t waiterId);
  void keepIdle(const ConnectionKey& key, std::shared_ptr<HTTP11ClientProtocol> protocol);
  void idleExpired(const ConnectionKey& key, HTTP11ClientProtocol* protocol);

  IReactorTCP& reactor_;
  IReactorTime& clock_;
  PoolOptions options_;
  std::map<ConnectionKey, Host> hosts_;
  std::map<std::uint64_t, Attempt> attempts_;
  std::uint64_t nextId_ = 1;
};

// Builds the pool's protocol for one connection attempt, and reports how it ended.
class HTTPConnectionPool::State::Factory : public ClientFactory {
 public:
  Factory(std::weak_ptr<State> pool, std::uint64_t attemptId) : pool_(std::move(pool)), attemptId_(attemptId) {}

  std::shared_ptr<Protocol> buildProtocol(const Address&) override {
    auto pool = pool_.lock();
    if (!pool) return nullptr;
    return pool->buildProtocol(attemptId_);
  }
  void clientConnectionFailed(Connector&, const Failure& reason) override {
    if (auto pool = pool_.lock()) pool->attemptFailed(attemptId_, reason);
  }

 private:
  std::weak_ptr<State> pool_;
  std::uint64_t attemptId_;
};

Deferred<PooledConnection> HTTPConnectionPool::State::getConnection(const ConnectionKey& key,
                                                                    const ConnectFunction& connect, double timeout,
                                                                    bool fresh) {
  const std::uint64_t id = nextId_++;
  std::weak_ptr<State> weak = weak_from_this();
  auto waiter = std::make_shared<Waiter>(Waiter{id, Deferred<PooledConnection>([weak, id](Deferred<PooledConnection>&) {
                                                  if (auto self = weak.lock()) self->cancelWaiter(id);
                                                }),
                                                connect, timeout, fresh});
  Deferred<PooledConnection> result = waiter->result;
  Host& host = hosts_[key];
  if (!fresh && !host.idle.empty() && host.queue.empty()) {
    Idle idle = std::move(host.idle.back());
    host.idle.pop_back();
    detail::cancelTimer(idle.timer);
    hand(waiter, std::move(idle.protocol), true);
  } else if (host.open < options_.maxConnectionsPerHost && host.queue.empty()) {
    startAttempt(key, std::move(waiter));
  } else {
    host.queue.push_back(std::move(waiter));
    dispatch(key);
  }
  return result;
}

void HTTPConnectionPool::State::startAttempt(const ConnectionKey& key, std::shared_ptr<Waiter> waiter) {
  const std::uint64_t id = nextId_++;
  Attempt& attempt = attempts_[id];
  attempt.key = key;
  attempt.waiter = waiter;
  ++hosts_[key].open;
  auto factory = std::make_shared<Factory>(weak_from_this(), id);
  std::shared_ptr<Connector> connector;
  try {
    connector = waiter->connect ? waiter->connect(reactor_, key, factory, waiter->timeout)
                                : plainConnect(reactor_, key, factory, waiter->timeout);
  } catch (...) {
    attempts_.erase(id);
    --hosts_[key].open;
    waiter->result.errback();
    dispatch(key);
    return;
  }
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;  // it already ended inside connect
  it->second.connector = std::move(connector);
  if (waiter->timeout > 0) {
    std::weak_ptr<State> weak = weak_from_this();
    it->second.timer = clock_.callLater(waiter->timeout, [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      auto found = self->attempts_.find(id);
      if (found == self->attempts_.end()) return;
      found->second.timedOut = true;
      auto attemptConnector = found->second.connector;
      if (attemptConnector && attemptConnector->state() == Connector::State::connecting) {
        attemptConnector->stopConnecting();  // attemptFailed follows, here or later
      } else {
        self->attemptFailed(id, Failure(TimeoutError()));
      }
    });
  }
}

std::shared_ptr<HTTP11ClientProtocol> HTTPConnectionPool::State::buildProtocol(std::uint64_t attemptId) {
  auto it = attempts_.find(attemptId);
  if (it == attempts_.end()) return nullptr;
  auto protocol = std::make_shared<HTTP11ClientProtocol>(options_.limits);
  std::weak_ptr<State> weak = weak_from_this();
  const ConnectionKey key = it->second.key;
  protocol->setConnectedCallback([weak, attemptId](HTTP11ClientProtocol&) {
    if (auto self = weak.lock()) self->connected(attemptId);
  });
  protocol->setQuiescentCallback([weak, key](HTTP11ClientProtocol& p) {
    if (auto self = weak.lock()) self->released(key, p);
  });
  protocol->setLostCallback([weak, key](HTTP11ClientProtocol& p) {
    if (auto self = weak.lock()) self->lost(key, p);
  });
  it->second.protocol = protocol;
  hosts_[key].connections[protocol.get()] = protocol;
  return protocol;
}

void HTTPConnectionPool::State::connected(std::uint64_t attemptId) {
  auto it = attempts_.find(attemptId);
  if (it == attempts_.end()) return;
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  detail::cancelTimer(attempt.timer);
  if (attempt.waiter) {
    hand(attempt.waiter, std::move(attempt.protocol), false);
  } else {
    released(attempt.key, *attempt.protocol);  // its request was cancelled: keep it
  }
}

void HTTPConnectionPool::State::attemptFailed(std::uint64_t attemptId, const Failure& reason) {
  auto it = attempts_.find(attemptId);
  if (it == attempts_.end()) return;
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  detail::cancelTimer(attempt.timer);
  --hosts_[attempt.key].open;
  if (attempt.waiter) {
    if (attempt.timedOut) {
      attempt.waiter->result.errback(TimeoutError("Connecting to " + attempt.key.host + ":" +
                                                  std::to_string(attempt.key.port) + " timed out after " +
                                                  std::to_string(attempt.waiter->timeout) + " seconds"));
    } else {
      attempt.waiter->result.errback(reason);
    }
  }
  dispatch(attempt.key);
}

void HTTPConnectionPool::State::hand(const std::shared_ptr<Waiter>& waiter,
                                     std::shared_ptr<HTTP11ClientProtocol> protocol, bool reused) {
  waiter->result.callback(PooledConnection{std::move(protocol), reused});
}

void HTTPConnectionPool::State::cancelWaiter(std::uint64_t waiterId) {
  for (auto& [key, host] : hosts_) {
    auto it = std::find_if(host.queue.begin(), host.queue.end(), [&](const auto& w) { return w->id == waiterId; });
    if (it != host.queue.end()) {
      host.queue.erase(it);
      return;  // cancel() errbacks with CancelledError
    }
  }
  for (auto& [id, attempt] : attempts_) {
    if (attempt.waiter && attempt.waiter->id == waiterId) {
      attempt.waiter.reset();
      auto connector = attempt.connector;
      if (connector && connector->state() == Connector::State::connecting) connector->stopConnecting();
      return;
    }
  }
}

void HTTPConnectionPool::State::released(const ConnectionKey& key, HTTP11ClientProtocol& protocol) {
  Host& host = hosts_[key];
  auto it = host.connections.find(&protocol);
  if (it == host.connections.end()) return;
  std::shared_ptr<HTTP11ClientProtocol> shared = it->second.lock();
  if (!shared) return;
  // The queue's head gets it, unless it must have a fresh connection (a retry).
  if (!host.queue.empty() && !host.queue.front()->fresh) {
    auto waiter = std::move(host.queue.front());
    host.queue.pop_front();
    hand(waiter, std::move(shared), true);
    return;
  }
  if (!options_.persistent || host.idle.size() >= options_.maxIdlePerHost || !host.queue.empty()) {
    // Not kept: closing it frees a place for the queue when it is lost.
    shared->transport().loseConnection();
    return;
  }
  keepIdle(key, std::move(shared));
}

void HTTPConnectionPool::State::keepIdle(const ConnectionKey& key, std::shared_ptr<HTTP11ClientProtocol> protocol) {
  std::weak_ptr<State> weak = weak_from_this();
  HTTP11ClientProtocol* raw = protocol.get();
  Idle idle{std::move(protocol), DelayedCall()};
  if (options_.idleTimeout > 0) {
    idle.timer = clock_.callLater(options_.idleTimeout, [weak, key, raw] {
      if (auto self = weak.lock()) self->idleExpired(key, raw);
    });
  }
  hosts_[key].idle.push_back(std::move(idle));
}

void HTTPConnectionPool::State::idleExpired(const ConnectionKey& key, HTTP11ClientProtocol* protocol) {
  Host& host = hosts_[key];
  auto it =
      std::find_if(host.idle.begin(), host.idle.end(), [&](const Idle& i) { return i.protocol.get() == protocol; });
  if (it == host.idle.end()) return;
  auto shared = std::move(it->protocol);
  host.idle.erase(it);
  if (shared->connected()) shared->transport().loseConnection();
}

void HTTPConnectionPool::State::lost(const ConnectionKey& key, HTTP11ClientProtocol& protocol) {
  Host& host = hosts_[key];
  if (host.connections.erase(&protocol) == 0) return;
  auto it =
      std::find_if(host.idle.begin(), host.idle.end(), [&](const Idle& i) { return i.protocol.get() == &protocol; });
  std::shared_ptr<HTTP11ClientProtocol> keep;  // destroyed after the pool's state is updated
  if (it != host.idle.end()) {
    detail::cancelTimer(it->timer);
    keep = std::move(it->protocol);
    host.idle.erase(it);
  }
  --host.open;
  dispatch(key);
}

void HTTPConnectionPool::State::dispatch(const ConnectionKey& key) {
  Host& host = hosts_[key];
  while (!host.queue.empty()) {
    auto& head = host.queue.front();
    if (!head->fresh && !host.idle.empty()) {
      Idle idle = std::move(host.idle.back());
      host.idle.pop_back();
      detail::cancelTimer(idle.timer);
      auto waiter = std::move(head);
      host.queue.pop_front();
      hand(waiter, std::move(idle.protocol), true);
    } else if (host.open < options_.maxConnectionsPerHost) {
      auto waiter = std::move(head);
      host.queue.pop_front();
      startAttempt(key, std::move(waiter));
    } else if (head->fresh && !host.idle.empty()) {
      // A retry needs a fresh connection but the cap is reached: close an idle one.
      Idle idle = std::move(host.idle.front());
      host.idle.erase(host.idle.begin());
      detail::cancelTimer(idle.timer);
      if (idle.protocol->connected()) idle.protocol->transport().loseConnection();
      return;
    } else {
      return;
    }
  }
}

void HTTPConnectionPool::State::closeCachedConnections() {
  for (auto& [key, host] : hosts_) {
    auto idle = std::move(host.idle);
    host.idle.clear();
    for (auto& entry : idle) {
      detail::cancelTimer(entry.timer);
      if (entry.protocol->connected()) entry.protocol->transport().loseConnection();
    }
  }
}

HTTPConnectionPool::HTTPConnectionPool(IReactorTCP& reactor, IReactorTime& clock, PoolOptions options)
    : state_(std::make_shared<State>(reactor, clock, std::move(options))) {}

HTTPConnectionPool::~HTTPConnectionPool() { state_->closeCachedConnections(); }

Deferred<PooledConnection> HTTPConnectionPool::getConnection(const ConnectionKey& key, const ConnectFunction& connect,
                                                             double connectTimeout, bool fresh) {
  return state_->getConnection(key, connect, connectTimeout, fresh);
}

void HTTPConnectionPool::closeCachedConnections() { state_->closeCachedConnections(); }

std::size_t HTTPConnectionPool::idleConnections(const ConnectionKey& key) const { return state_->idle(key); }

std::size_t HTTPConnectionPool::openConnections(const ConnectionKey& key) const { return state_->open(key); }

std::size_t HTTPConnectionPool::queuedRequests(const ConnectionKey& key) const { return state_->queued(key); }

const PoolOptions& HTTPConnectionPool::options() const noexcept { return state_->options(); }

}  // namespace torsion::http
