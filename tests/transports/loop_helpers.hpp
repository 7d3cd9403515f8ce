// Test support: drive a reactor until something happens, with a hard deadline.
#pragma once

#include <gtest/gtest.h>
#include <torsion/reactor.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace transports_test {

/// Iterates `reactor` until `done()` or `seconds` pass; returns whether `done()` held.
inline bool iterateUntil(torsion::Reactor& reactor, const std::function<bool()>& done, double seconds = 5.0) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    reactor.iterate(0.01);
  }
  return true;
}

inline std::string backendName(const testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace transports_test
