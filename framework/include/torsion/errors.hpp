// Public. The exception types torsion reports, named after twisted.internet.error.
#pragma once

#include <torsion/failure.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace torsion {

/// Base of every exception torsion throws or reports in a Failure.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The connection was closed cleanly (orderly shutdown by either side).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectionDone : public Error {
 public:
  /// @param message why the connection ended; the default is Twisted's wording.
  explicit ConnectionDone(const std::string& message = "Connection was closed cleanly.") : Error(message) {}
};

/// The connection was lost in an unclean way (reset, error); the message carries the
/// operating system's error text where there was one.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectionLost : public Error {
 public:
  /// @param message why the connection was lost.
  explicit ConnectionLost(const std::string& message = "Connection to the other side was lost in a non-clean fashion.")
      : Error(message) {}
};

/// The connection was closed by Transport::abortConnection on this side.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectionAborted : public ConnectionLost {
 public:
  /// @param message why the connection was aborted.
  explicit ConnectionAborted(const std::string& message = "Connection was aborted locally.")
      : ConnectionLost(message) {}
};

/// An outgoing connection could not be established.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectError : public Error {
 public:
  using Error::Error;
};

/// The peer refused the connection (ECONNREFUSED).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectionRefusedError : public ConnectError {
 public:
  /// @param message details; the default is Twisted's wording.
  explicit ConnectionRefusedError(const std::string& message = "Connection was refused by other side.")
      : ConnectError(message) {}
};

/// A host name could not be resolved.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class DNSLookupError : public ConnectError {
 public:
  using ConnectError::ConnectError;
};

/// Connecting was cancelled by the user (Connector::stopConnecting, or a cancelled
/// endpoint connect).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ConnectingCancelledError : public ConnectError {
 public:
  /// @param message details.
  explicit ConnectingCancelledError(const std::string& message = "User aborted connection.") : ConnectError(message) {}
};

/// An operation did not finish in the time allowed (a connect timeout, or a Deferred's
/// addTimeout).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class TimeoutError : public Error {
 public:
  /// @param message details; the default is Twisted's wording.
  explicit TimeoutError(const std::string& message = "User timeout caused connection failure.") : Error(message) {}
};

/// A listening socket could not be created, bound or put in listening state. The
/// message names the address, the port and the system's reason.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class CannotListenError : public Error {
 public:
  /// @param interface the address that was asked for ("" means all IPv4 addresses).
  /// @param port the port that was asked for.
  /// @param reason the system's explanation, such as strerror(EADDRINUSE).
  CannotListenError(const std::string& interface, std::uint16_t port, const std::string& reason)
      : Error("Couldn't listen on " + (interface.empty() ? std::string("any") : interface) + ":" +
              std::to_string(port) + ": " + reason + "."),
        interface_(interface),
        port_(port) {}
  /// For a Unix socket: the message names the path alone (no port).
  /// @param unixPath the socket file that was asked for.
  /// @param reason the system's explanation, such as strerror(EADDRINUSE).
  CannotListenError(const std::string& unixPath, const std::string& reason)
      : Error("Couldn't listen on unix:" + unixPath + ": " + reason + "."), interface_(unixPath), port_(0) {}
  /// The interface that was asked for (the path, for a Unix socket).
  const std::string& interface() const noexcept { return interface_; }
  /// The port that was asked for (0 for a Unix socket).
  std::uint16_t port() const noexcept { return port_; }

 private:
  std::string interface_;
  std::uint16_t port_;
};

/// A datagram was larger than the socket can send in one piece (EMSGSIZE).
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class MessageLengthError : public Error {
 public:
  using Error::Error;
};

/// A backend was asked for by name that this build does not have. The message lists
/// the backends that are available.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class UnsupportedBackendError : public Error {
 public:
  using Error::Error;
};

/// The backend cannot watch a descriptor, such as select() with a descriptor at or
/// above FD_SETSIZE.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class BackendLimitError : public Error {
 public:
  using Error::Error;
};

/// Reactor::stop was called on a reactor that is not running.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class ReactorNotRunning : public Error {
 public:
  /// @param message details.
  explicit ReactorNotRunning(const std::string& message = "Can't stop reactor that isn't running.") : Error(message) {}
};

/// DelayedCall::cancel, reset or delay on a call that has already run.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class AlreadyCalled : public Error {
 public:
  /// @param message details.
  explicit AlreadyCalled(const std::string& message = "Tried to cancel an already-called event.") : Error(message) {}
};

/// DelayedCall::cancel, reset or delay on a call that was already cancelled.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class AlreadyCancelled : public Error {
 public:
  /// @param message details.
  explicit AlreadyCancelled(const std::string& message = "Tried to cancel an already-cancelled event.")
      : Error(message) {}
};

/// A Deferred was fired (callback or errback) a second time.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class AlreadyCalledError : public Error {
 public:
  /// @param message details.
  explicit AlreadyCalledError(const std::string& message = "Deferred has already been called.") : Error(message) {}
};

/// A Deferred was cancelled before it had a result.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class CancelledError : public Error {
 public:
  /// @param message details.
  explicit CancelledError(const std::string& message = "Deferred was cancelled.") : Error(message) {}
};

/// The first failure among the Deferreds of a DeferredList made with fireOnOneErrback,
/// or of gatherResults: which one failed (its index in the list) and how.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class FirstError : public Error {
 public:
  /// @param subFailure the failure of the Deferred that failed first.
  /// @param index its position in the list.
  FirstError(Failure subFailure, std::size_t index)
      : Error("FirstError[#" + std::to_string(index) + ", " + subFailure.toString() + "]"),
        subFailure_(std::move(subFailure)),
        index_(index) {}
  /// The failure of the Deferred that failed first.
  const Failure& subFailure() const noexcept { return subFailure_; }
  /// Its position in the list.
  std::size_t index() const noexcept { return index_; }

 private:
  Failure subFailure_;
  std::size_t index_;
};

/// Several operations all failed, such as every Deferred given to race(): carries each
/// failure, in the order of the inputs.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class FailureGroup : public Error {
 public:
  /// @param failures every failure, in input order.
  explicit FailureGroup(std::vector<Failure> failures) : Error(describe(failures)), failures_(std::move(failures)) {}
  /// Every failure, in input order.
  const std::vector<Failure>& failures() const noexcept { return failures_; }

 private:
  static std::string describe(const std::vector<Failure>& failures) {
    std::string text = std::to_string(failures.size()) + (failures.size() == 1 ? " failure" : " failures");
    for (std::size_t i = 0; i < failures.size(); ++i) text += (i == 0 ? ": " : "; ") + failures[i].toString();
    return text;
  }
  std::vector<Failure> failures_;
};

/// DeferredQueue::put on a queue that already holds its maximum number of items.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class QueueOverflow : public Error {
 public:
  /// @param message details.
  explicit QueueOverflow(const std::string& message = "DeferredQueue is full.") : Error(message) {}
};

/// DeferredQueue::get when its maximum number of waiting getters is already reached.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class QueueUnderflow : public Error {
 public:
  /// @param message details.
  explicit QueueUnderflow(const std::string& message = "Too many waiting getters on DeferredQueue.") : Error(message) {}
};

}  // namespace torsion
