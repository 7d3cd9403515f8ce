#include "log_unhandled.hpp"

#include <torsion/failure.hpp>
#include <torsion/log.hpp>

#include <utility>

namespace torsion::detail {

void logUnhandled(const char* where, std::exception_ptr exception) {
  Failure failure(std::move(exception));
  log::error("Unhandled exception in {}: {}", where, failure.toString());
}

}  // namespace torsion::detail
