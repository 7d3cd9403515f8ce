// Public. Result<T>: the outcome of an asynchronous operation, a value or a Failure.
#pragma once

#include <torsion/failure.hpp>

#include <concepts>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace torsion {

template <class T>
class Result;

namespace detail {
template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace detail

/// The outcome of an asynchronous operation: either a value of type T or a Failure.
///
/// An addBoth callback receives one. Any callback may also return one, to choose between
/// the success and the error path without throwing; returning the Result an addBoth
/// callback received passes the outcome on unchanged (Twisted's `passthru`).
///
/// @code
/// d.addBoth([](torsion::Result<int> r) -> torsion::Result<int> {
///   torsion::log::info("finished {}", r.ok() ? "well" : r.failure().getErrorMessage());
///   return r;  // the value or the failure goes on down the chain
/// });
/// @endcode
///
/// Thread safety: a value type: safe to copy between threads when `T` is; not to share mutably.
template <class T>
class Result {
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>, "Result<T>: T must be a plain object type");
  static_assert(!std::is_same_v<T, Failure>, "Result<Failure> is ambiguous: a Result already carries a Failure");

 public:
  /// A success holding `value`.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose

  /// A success holding a T made from `value`, so `return "text";` makes a Result<std::string>.
  // clang-format off
  template <class U>
    requires(std::constructible_from<T, U&&> && !std::same_as<std::remove_cvref_t<U>, T> &&
             !std::same_as<std::remove_cvref_t<U>, Failure> && !detail::IsResult<std::remove_cvref_t<U>>::value)
  Result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit on purpose
  // clang-format on

  /// A failure.
  Result(Failure failure) : state_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT: implicit on purpose

  /// True if this holds a value.
  bool ok() const noexcept { return state_.index() == 0; }

  /// True if this holds a Failure.
  bool failed() const noexcept { return state_.index() == 1; }

  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }

  /// The value.
  /// @throws the failure's exception if this holds a Failure.
  T& value() & {
    if (failed()) std::get<1>(state_).raiseException();
    return std::get<0>(state_);
  }

  /// The value.
  /// @throws the failure's exception if this holds a Failure.
  const T& value() const& {
    if (failed()) std::get<1>(state_).raiseException();
    return std::get<0>(state_);
  }

  /// The value, moved out.
  /// @throws the failure's exception if this holds a Failure.
  T&& value() && {
    if (failed()) std::get<1>(state_).raiseException();
    return std::move(std::get<0>(state_));
  }

  /// The Failure.
  /// @throws std::logic_error if this holds a value.
  const Failure& failure() const& {
    if (ok()) throw std::logic_error("Result::failure() on a successful Result");
    return std::get<1>(state_);
  }

  /// The Failure, moved out.
  /// @throws std::logic_error if this holds a value.
  Failure&& failure() && {
    if (ok()) throw std::logic_error("Result::failure() on a successful Result");
    return std::move(std::get<1>(state_));
  }

 private:
  std::variant<T, Failure> state_;
};

/// The outcome of an operation that produces no value: success, or a Failure.
///
/// Thread safety: a value type, as Result<T>.
template <>
class Result<void> {
 public:
  /// A success.
  Result() noexcept = default;

  /// A failure.
  Result(Failure failure) : failure_(std::move(failure)) {}  // NOLINT: implicit on purpose

  /// True on success.
  bool ok() const noexcept { return !failure_.has_value(); }

  /// True if this holds a Failure.
  bool failed() const noexcept { return failure_.has_value(); }

  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }

  /// Does nothing on success.
  /// @throws the failure's exception if this holds a Failure.
  void value() const {
    if (failure_) failure_->raiseException();
  }

  /// The Failure.
  /// @throws std::logic_error on success.
  const Failure& failure() const& {
    if (!failure_) throw std::logic_error("Result::failure() on a successful Result");
    return *failure_;
  }

  /// The Failure, moved out.
  /// @throws std::logic_error on success.
  Failure&& failure() && {
    if (!failure_) throw std::logic_error("Result::failure() on a successful Result");
    return std::move(*failure_);
  }

 private:
  std::optional<Failure> failure_;
};

}  // namespace torsion
