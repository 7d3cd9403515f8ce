// Internal. ReactorAccess: how torsion's own code reaches what the public Reactor keeps
// private (its core, and its constructor on a backend torsion made itself).
#pragma once

#include <torsion/reactor.hpp>

#include <memory>

namespace torsion::detail {

struct ReactorAccess {
  /// The loop behind `reactor`, for torsion's transports and endpoints.
  static ReactorCore& core(Reactor& reactor) noexcept { return *reactor.core_; }

  /// A reactor on `backend`: how attachToIoContext puts one on a user's io_context.
  static std::unique_ptr<Reactor> make(std::unique_ptr<Backend> backend) {
    return std::unique_ptr<Reactor>(new Reactor(std::move(backend)));
  }
};

}  // namespace torsion::detail
