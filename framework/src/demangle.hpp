// Internal. demangle: a readable C++ type name, for Failure and Deferred's error messages.
#pragma once

#include <string>

namespace torsion::detail {

/// The demangled form of a type_info name ("torsion::ConnectionDone"), or the name as it
/// is when it cannot be demangled.
std::string demangle(const char* name);

}  // namespace torsion::detail
