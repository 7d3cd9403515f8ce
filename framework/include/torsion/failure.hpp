// Public. Failure: an exception captured as a value, like twisted.python.failure.Failure.
#pragma once

#include <concepts>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace torsion {

/// An error carried as a value: wraps a std::exception_ptr together with the exception's
/// type name and message, so it can be passed to errbacks and connectionLost, logged,
/// inspected with check(), filtered with trap(), and rethrown.
///
/// @code
/// void connectionLost(const torsion::Failure& reason) override {
///   if (reason.check<torsion::ConnectionDone>()) return;        // clean close
///   torsion::log::warn("lost: {}", reason.getErrorMessage());
/// }
/// @endcode
///
/// Thread safety: a value type: safe to copy between threads (copies share the exception object, which is never
/// modified); not to share mutably.
class Failure {
 public:
  /// Wraps an exception that was already captured. A null pointer is replaced by a
  /// std::logic_error saying so, so that a Failure always holds an exception.
  explicit Failure(std::exception_ptr exception);

  /// Wraps an exception object, such as `Failure(ConnectionRefusedError())`.
  template <class E>
  requires std::derived_from<std::decay_t<E>, std::exception>
  explicit Failure(E&& exception) : Failure(std::make_exception_ptr(std::forward<E>(exception))) {}

  /// Captures the exception being handled; call only inside a catch block.
  static Failure current();

  /// The wrapped exception.
  const std::exception_ptr& exception() const noexcept { return exception_; }

  /// The exception's type name, demangled, such as "torsion::ConnectionDone".
  const std::string& typeName() const noexcept { return typeName_; }

  /// The exception's message (what()), or a description for non-std exceptions.
  const std::string& getErrorMessage() const noexcept { return message_; }

  /// "TypeName: message", for logs.
  std::string toString() const;

  /// True if the exception is an E (or derives from it).
  template <class E>
  bool check() const {
    return value<E>() != nullptr;
  }

  /// A pointer to the exception as an E, or nullptr if it is not one. The pointer stays
  /// valid as long as this Failure (or a copy) lives.
  template <class E>
  const E* value() const {
    // The constructor found the exception's std::exception base once; a dynamic_cast from
    // it matches what a catch of E would, for a small fraction of a rethrow's cost (a
    // rethrow runs the unwinder: about 10,000 instructions, paid for every check of every
    // closed connection).
    if constexpr (std::derived_from<E, std::exception>) {
      if (standard_ != nullptr) return dynamic_cast<const E*>(standard_);
    }
    try {
      std::rethrow_exception(exception_);
    } catch (const E& e) {
      return &e;
    } catch (...) {
      return nullptr;
    }
  }

  /// Rethrows the exception unless it is one of the listed types, as Twisted's
  /// Failure.trap does; an errback calls it to let only the errors it expects through.
  template <class... E>
  void trap() const {
    if (!(check<E>() || ...)) raiseException();
  }

  /// Throws the wrapped exception.
  [[noreturn]] void raiseException() const;

 private:
  std::exception_ptr exception_;
  const std::exception* standard_ = nullptr;  // inside exception_'s object; null if not a std::exception
  std::string typeName_;
  std::string message_;
};

}  // namespace torsion
