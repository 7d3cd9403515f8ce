// Test support for the Deferred suites: Twisted's successResultOf / failureResultOf, and
// a capture of the log for unhandled-error reports.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/log.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deferred_test {

/// Collects every log message while alive; restores the default sink afterwards.
class LogCapture {
 public:
  LogCapture() {
    torsion::log::setSink([this](torsion::log::Level, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(message);
    });
  }
  ~LogCapture() { torsion::log::resetSink(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// The messages so far.
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  /// How many messages contain `needle`.
  std::size_t count(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& message : messages_) n += message.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

/// The outcome a Deferred has now, taken from it (an addBoth at the end of its chain),
/// or nothing if it has none yet. The slot is shared, so a later firing stays safe.
template <class T>
std::shared_ptr<std::optional<torsion::Result<T>>> outcomeOf(torsion::Deferred<T> deferred) {
  auto slot = std::make_shared<std::optional<torsion::Result<T>>>();
  deferred.addBoth([slot](torsion::Result<T>&& result) { slot->emplace(std::move(result)); });
  return slot;
}

/// Twisted's successResultOf: the value of a Deferred that has succeeded.
/// @throws std::runtime_error if it has no result or failed.
template <class T>
T successResultOf(torsion::Deferred<T> deferred) {
  auto slot = outcomeOf(std::move(deferred));
  if (!slot->has_value()) throw std::runtime_error("successResultOf: the Deferred has no result");
  if ((*slot)->failed()) {
    throw std::runtime_error("successResultOf: the Deferred failed: " + (*slot)->failure().toString());
  }
  if constexpr (!std::is_void_v<T>) return std::move(**slot).value();
}

/// Twisted's failureResultOf: the Failure of a Deferred that has failed.
/// @throws std::runtime_error if it has no result or succeeded.
template <class T>
torsion::Failure failureResultOf(torsion::Deferred<T> deferred) {
  auto slot = outcomeOf(std::move(deferred));
  if (!slot->has_value()) throw std::runtime_error("failureResultOf: the Deferred has no result");
  if ((*slot)->ok()) throw std::runtime_error("failureResultOf: the Deferred succeeded");
  return (*slot)->failure();
}

/// Twisted's assertNoResult, without consuming: not fired, or held back.
template <class T>
bool hasNoResult(const torsion::Deferred<T>& deferred) {
  return !deferred.called() || deferred.paused() > 0;
}

/// An exception type of the tests' own, so a test can tell its failures from torsion's.
class GenericError : public std::runtime_error {
 public:
  explicit GenericError(const std::string& message = "generic") : std::runtime_error(message) {}
};

}  // namespace deferred_test
