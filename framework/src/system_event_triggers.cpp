// SystemEventTriggers: see system_event_triggers.hpp.
#include "system_event_triggers.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace torsion::detail {

std::uint64_t SystemEventTriggers::add(EventPhase phase, std::string_view eventType, std::function<void()> fn) {
  pending_.push_back({nextId_, phase, std::string(eventType), std::move(fn)});
  return nextId_++;
}

void SystemEventTriggers::remove(std::uint64_t id) {
  auto found = std::find_if(pending_.begin(), pending_.end(), [id](const SystemEventTrigger& t) { return t.id == id; });
  if (found == pending_.end()) throw std::invalid_argument("removeSystemEventTrigger: no such trigger is pending");
  pending_.erase(found);
}

void SystemEventTriggers::fire(std::string_view eventType, const std::function<void(std::exception_ptr)>& onError) {
  for (EventPhase phase : {EventPhase::before, EventPhase::during, EventPhase::after}) {
    // Take the phase's triggers out first: a trigger may add or remove others (and the
    // list may grow, so nothing here may hold an iterator into it across a call).
    std::vector<SystemEventTrigger> due;
    auto split = std::stable_partition(pending_.begin(), pending_.end(), [&](const SystemEventTrigger& t) {
      return !(t.phase == phase && t.eventType == eventType);
    });
    std::move(split, pending_.end(), std::back_inserter(due));
    pending_.erase(split, pending_.end());
    for (auto& trigger : due) {
      try {
        trigger.fn();
      } catch (...) {
        onError(std::current_exception());
      }
    }
  }
}

}  // namespace torsion::detail
