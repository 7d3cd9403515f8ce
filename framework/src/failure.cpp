#include <torsion/failure.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <typeinfo>

#include "demangle.hpp"

namespace torsion {

Failure::Failure(std::exception_ptr exception) : exception_(std::move(exception)) {
  if (!exception_) {
    exception_ = std::make_exception_ptr(std::logic_error("Failure constructed from a null exception_ptr"));
  }
  try {
    std::rethrow_exception(exception_);
  } catch (const std::exception& e) {
    standard_ = &e;  // the object exception_ holds, alive as long as it (and its copies)
    typeName_ = detail::demangle(typeid(e).name());
    message_ = e.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    typeName_ = type ? detail::demangle(type->name()) : std::string("unknown");
    message_ = "non-standard exception of type " + typeName_;
  }
}

Failure Failure::current() { return Failure(std::current_exception()); }

std::string Failure::toString() const { return typeName_ + ": " + message_; }

void Failure::raiseException() const { std::rethrow_exception(exception_); }

}  // namespace torsion
