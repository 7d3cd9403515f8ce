// Test support: protocols and factories that record what happened to them and run a
// test's hooks, so each test scripts only the behaviour it probes.
#pragma once

#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/protocol.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torsion_test {

/// The record every scripted protocol keeps.
struct ProtocolRecord {
  int madeCount = 0;
  int lostCount = 0;
  int dataCalls = 0;
  bool calledAfterLost = false;  // a hook ran after connectionLost: must never happen
  std::string received;
  std::optional<torsion::Failure> lostReason;

  bool made() const { return madeCount > 0; }
  bool lost() const { return lostCount > 0; }
  template <class E>
  bool lostWith() const {
    return lostReason && lostReason->check<E>();
  }
  /// The reason as text for a failure message; safe when the connection was not lost.
  std::string lostText() const { return lostReason ? lostReason->toString() : "(connectionLost was not called)"; }
};

/// A Protocol whose hooks are std::functions; by default it only records.
class ScriptedProtocol : public torsion::Protocol, public ProtocolRecord {
 public:
  std::function<void(ScriptedProtocol&)> onMade;
  std::function<void(ScriptedProtocol&, torsion::Bytes)> onData;
  std::function<void(ScriptedProtocol&, const torsion::Failure&)> onLost;

  void connectionMade() override {
    ++madeCount;
    if (onMade) onMade(*this);
  }
  void dataReceived(torsion::Bytes data) override {
    if (lostCount) calledAfterLost = true;
    ++dataCalls;
    received.append(data);
    if (onData) onData(*this, data);
  }
  void connectionLost(const torsion::Failure& reason) override {
    ++lostCount;
    lostReason = reason;
    if (onLost) onLost(*this, reason);
  }
};

/// The same for a HalfCloseableProtocol.
class ScriptedHalfCloseProtocol : public torsion::HalfCloseableProtocol, public ProtocolRecord {
 public:
  int readLostCount = 0;
  int writeLostCount = 0;
  std::function<void(ScriptedHalfCloseProtocol&)> onMade;
  std::function<void(ScriptedHalfCloseProtocol&, torsion::Bytes)> onData;
  std::function<void(ScriptedHalfCloseProtocol&)> onReadLost;
  std::function<void(ScriptedHalfCloseProtocol&)> onWriteLost;
  std::function<void(ScriptedHalfCloseProtocol&, const torsion::Failure&)> onLost;

  void connectionMade() override {
    ++madeCount;
    if (onMade) onMade(*this);
  }
  void dataReceived(torsion::Bytes data) override {
    if (lostCount) calledAfterLost = true;
    ++dataCalls;
    received.append(data);
    if (onData) onData(*this, data);
  }
  void readConnectionLost() override {
    if (lostCount) calledAfterLost = true;
    ++readLostCount;
    if (onReadLost) onReadLost(*this);
  }
  void writeConnectionLost() override {
    if (lostCount) calledAfterLost = true;
    ++writeLostCount;
    if (onWriteLost) onWriteLost(*this);
  }
  void connectionLost(const torsion::Failure& reason) override {
    ++lostCount;
    lostReason = reason;
    if (onLost) onLost(*this, reason);
  }
};

/// Every protocol a factory built, in order, kept alive for inspection.
template <class P>
struct Built {
  std::vector<std::shared_ptr<P>> all;
  std::size_t size() const { return all.size(); }
  P& operator[](std::size_t i) const { return *all.at(i); }
  P& back() const { return *all.back(); }
};

/// A server factory building `P`s, each set up by `setup` (may be empty).
template <class P = ScriptedProtocol>
std::shared_ptr<torsion::Factory> recordingFactory(Built<P>& built, std::function<void(P&)> setup = {}) {
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&built, setup = std::move(setup)] {
    auto protocol = std::make_shared<P>();
    if (setup) setup(*protocol);
    built.all.push_back(protocol);
    return std::shared_ptr<torsion::Protocol>(protocol);
  };
  return factory;
}

/// A ClientFactory that records its callbacks and runs optional hooks.
class ScriptedClientFactory : public torsion::ClientFactory {
 public:
  int started = 0;
  int stopped = 0;
  int startedConnectingCount = 0;
  int failedCount = 0;
  int lostCount = 0;
  std::optional<torsion::Failure> failReason;
  std::optional<torsion::Failure> lostReason;
  std::function<void(torsion::Connector&)> onStartedConnecting;
  std::function<void(torsion::Connector&, const torsion::Failure&)> onFailed;
  std::function<void(torsion::Connector&, const torsion::Failure&)> onLost;

  void startFactory() override { ++started; }
  void stopFactory() override { ++stopped; }
  void startedConnecting(torsion::Connector& connector) override {
    ++startedConnectingCount;
    if (onStartedConnecting) onStartedConnecting(connector);
  }
  void clientConnectionFailed(torsion::Connector& connector, const torsion::Failure& reason) override {
    ++failedCount;
    failReason = reason;
    if (onFailed) onFailed(connector, reason);
  }
  void clientConnectionLost(torsion::Connector& connector, const torsion::Failure& reason) override {
    ++lostCount;
    lostReason = reason;
    if (onLost) onLost(connector, reason);
  }
  bool finished() const { return failedCount + lostCount > 0; }
  /// clientConnectionFailed was called with an `E` (false, never a crash, if it was not).
  template <class E>
  bool failedWith() const {
    return failReason && failReason->check<E>();
  }
  /// clientConnectionLost was called with an `E`.
  template <class E>
  bool lostWith() const {
    return lostReason && lostReason->check<E>();
  }
  /// The failure as text for a failure message; safe when there was none.
  std::string failText() const {
    return failReason ? failReason->toString() : "(clientConnectionFailed was not called)";
  }
};

/// A ScriptedClientFactory building `P`s into `built`.
template <class P = ScriptedProtocol>
std::shared_ptr<ScriptedClientFactory> recordingClientFactory(Built<P>& built, std::function<void(P&)> setup = {}) {
  auto factory = std::make_shared<ScriptedClientFactory>();
  factory->protocol = [&built, setup = std::move(setup)] {
    auto protocol = std::make_shared<P>();
    if (setup) setup(*protocol);
    built.all.push_back(protocol);
    return std::shared_ptr<torsion::Protocol>(protocol);
  };
  return factory;
}

/// Writes back whatever it receives.
class EchoServer : public torsion::Protocol {
 public:
  /// Echoes `data`.
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

/// Sends `message`, waits for all of it to come back (counting bytes that differ), sends
/// it again, and counts the round trips. Nothing here allocates after connectionMade, so
/// the allocation tests count only what the framework (and TLS) allocate.
class PingClient : public torsion::Protocol {
 public:
  PingClient(const std::string* message, long* roundTrips) : message_(message), roundTrips_(roundTrips) {}
  void connectionMade() override { transport().write(*message_); }
  void dataReceived(torsion::Bytes data) override {
    for (std::size_t i = 0; i < data.size(); ++i) mismatches += data[i] != (*message_)[received_ + i];
    received_ += data.size();
    if (received_ < message_->size()) return;
    received_ = 0;
    ++*roundTrips_;
    transport().write(*message_);
  }
  long mismatches = 0;  ///< bytes that came back different

 private:
  const std::string* message_;
  long* roundTrips_;
  std::size_t received_ = 0;
};

}  // namespace torsion_test
