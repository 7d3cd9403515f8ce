#include "system_error.hpp"

#include <cerrno>
#include <system_error>

namespace torsion::detail {

void throwSystemError(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace torsion::detail
