// Test support for the HTTP client on real sockets: waiting for a Deferred with a
// deadline, and describing a result for failure messages.
#pragma once

#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "reactor_test_support.hpp"

namespace torsion_test {

/// Runs `reactor` until `deferred` fires (at most `seconds`) and returns its result; a
/// deadline that passes is a test failure and a failed Result.
template <class T>
torsion::Result<T> waitFor(torsion::Reactor& reactor, torsion::Deferred<T> deferred, double seconds = 10) {
  auto slot = std::make_shared<std::optional<torsion::Result<T>>>();
  deferred.addBoth([slot](torsion::Result<T> result) { *slot = std::move(result); });
  EXPECT_TRUE(runUntil(
      reactor, [&] { return slot->has_value(); }, seconds, "the HTTP request"));
  if (!slot->has_value()) {
    return torsion::Failure(std::make_exception_ptr(std::runtime_error("the Deferred did not fire in time")));
  }
  return std::move(**slot);
}

/// "ok: 200" or "TypeName: message", for assertion messages.
template <class T>
std::string describeResult(const torsion::Result<T>& result) {
  if (result.ok()) return "ok";
  return result.failure().toString();
}

/// The failure's type name and message when `result` failed with E; an assertion failure
/// naming what happened instead otherwise.
template <class E, class T>
::testing::AssertionResult failedWith(const torsion::Result<T>& result) {
  if (result.ok()) return ::testing::AssertionFailure() << "succeeded; expected " << typeid(E).name();
  if (!result.failure().template check<E>()) {
    return ::testing::AssertionFailure() << "failed with " << result.failure().toString();
  }
  return ::testing::AssertionSuccess() << result.failure().toString();
}

}  // namespace torsion_test
