// Public. HTTPConnectionPool: persistent HTTP/1.1 connections per (scheme, host, port),
// with a cap per host, a FIFO queue beyond it and an idle timeout.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/http/client_protocol.hpp>
#include <torsion/http/connect_function.hpp>
#include <torsion/http/response_parser.hpp>
#include <torsion/reactor_interfaces.hpp>

#include <cstddef>
#include <memory>

namespace torsion::http {

/// How an HTTPConnectionPool behaves.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct PoolOptions {
  /// The most connections open (connecting, busy or idle) to one key at once; requests
  /// beyond it wait in a FIFO queue for a connection to come free.
  std::size_t maxConnectionsPerHost = 6;
  /// The most idle connections kept per key; more are closed when they come free.
  std::size_t maxIdlePerHost = 6;
  /// An idle connection is closed after this many seconds unused (Twisted's
  /// `cachedConnectionTimeout`).
  double idleTimeout = 240;
  /// Keep connections after a response that allows it (false: one request per connection).
  bool persistent = true;
  /// The caps each connection's response parser enforces.
  ResponseLimits limits;
};

/// A connection handed out by HTTPConnectionPool::getConnection.
///
/// Thread safety: the reactor's thread only.
struct PooledConnection {
  std::shared_ptr<HTTP11ClientProtocol> protocol;  ///< idle, ready for request()
  /// True when it carried a request before (taken from the idle connections): a request
  /// that gets ResponseNeverReceivedError on it may be retried on a fresh one.
  bool reused = false;
};

/// Persistent connections for Agents (Twisted's `HTTPConnectionPool`, with a queue).
///
/// Per key (scheme, host, port, and the proxy of a CONNECT tunnel) it keeps idle connections for reuse, caps the
/// connections open at maxConnectionsPerHost and queues the requests beyond the cap in
/// arrival order. A connection returns to the pool by itself when its response ends and
/// it may be reused; a connection the server closes while idle is dropped; an idle one
/// is closed after idleTimeout. Several Agents may share one pool.
///
/// Lifetimes: hold it in a std::shared_ptr. Agents keep their pool alive while they or
/// their requests live; connections and timers refer to it weakly. Destroying it closes
/// the idle connections.
///
/// @code
/// auto pool = std::make_shared<torsion::http::HTTPConnectionPool>(reactor, reactor);
/// torsion::http::Agent agent(reactor, pool);
/// @endcode
///
/// Thread safety: the reactor's thread only.
class HTTPConnectionPool {
 public:
  /// @param reactor connects (through the ConnectFunction given to getConnection).
  /// @param clock runs the idle and connect timers.
  /// @param options caps and timeouts.
  HTTPConnectionPool(IReactorTCP& reactor, IReactorTime& clock, PoolOptions options = {});
  /// Closes the idle connections; connections in use finish their request.
  ~HTTPConnectionPool();
  HTTPConnectionPool(const HTTPConnectionPool&) = delete;             ///< Not copyable.
  HTTPConnectionPool& operator=(const HTTPConnectionPool&) = delete;  ///< Not copyable.

  /// A connection to `key`: an idle one if there is one (unless `fresh`), else a new one
  /// if the cap allows, else the request waits in the queue. Cancelling the Deferred takes
  /// it out of the queue, or stops its connection attempt.
  /// @param key where to.
  /// @param connect opens a new connection (see ConnectFunction).
  /// @param connectTimeout seconds to wait for a new connection: then TimeoutError.
  /// @param fresh never take an idle connection (for a retry after a stale one).
  /// @return fires with an idle connection; fails with the connect error, TimeoutError,
  ///         or what `connect` threw.
  Deferred<PooledConnection> getConnection(const ConnectionKey& key, const ConnectFunction& connect,
                                           double connectTimeout, bool fresh = false);

  /// Closes every idle connection now (Twisted's `closeCachedConnections`).
  void closeCachedConnections();

  /// Idle connections kept for `key`.
  /// @param key where to.
  std::size_t idleConnections(const ConnectionKey& key) const;
  /// Connections open or opening for `key`, idle ones included.
  /// @param key where to.
  std::size_t openConnections(const ConnectionKey& key) const;
  /// Requests waiting in the queue for `key`.
  /// @param key where to.
  std::size_t queuedRequests(const ConnectionKey& key) const;

  /// The options given.
  const PoolOptions& options() const noexcept;

 private:
  class State;
  std::shared_ptr<State> state_;
};

}  // namespace torsion::http
