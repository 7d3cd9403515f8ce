// Internal. SystemEventTriggers: adding, removing and firing the system event triggers
// of one reactor. The reactor core and testing::MemoryReactor both keep their triggers
// through it, so the two cannot drift (order of phases, triggers added while firing).
#pragma once

#include <torsion/reactor_interfaces.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <string_view>
#include <vector>

namespace torsion::detail {

/// Works on a reactor's own list and id counter (MemoryReactor shows its list to tests,
/// so the list stays the reactor's member, not this type's).
class SystemEventTriggers {
 public:
  SystemEventTriggers(std::vector<SystemEventTrigger>& pending, std::uint64_t& nextId) noexcept
      : pending_(pending), nextId_(nextId) {}

  /// Adds a trigger; ids start at 1 and are never reused.
  std::uint64_t add(EventPhase phase, std::string_view eventType, std::function<void()> fn);

  /// Removes a pending trigger.
  /// @throws std::invalid_argument if `id` is not pending (never added, or already run).
  void remove(std::uint64_t id);

  /// Runs and removes the triggers of `eventType`: all 'before', then 'during', then
  /// 'after', each phase in the order added. A trigger added while firing runs if its
  /// phase has not started yet. An exception escaping a trigger goes to `onError` and
  /// the others still run (Twisted logs it likewise).
  void fire(std::string_view eventType, const std::function<void(std::exception_ptr)>& onError);

 private:
  std::vector<SystemEventTrigger>& pending_;
  std::uint64_t& nextId_;
};

}  // namespace torsion::detail
