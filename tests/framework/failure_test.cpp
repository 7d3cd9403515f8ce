// Failure::check and Failure::value: the same answers a catch of the type would give,
// for the exception object the Failure holds, through copies, and for exceptions that
// are not std::exceptions.
#include <torsion/errors.hpp>
#include <torsion/failure.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct Base : std::runtime_error {
  Base() : std::runtime_error("base") {}
};
struct Derived : Base {};
struct Unrelated : std::exception {};

// The address a catch of E sees, or nullptr if a catch of E does not match.
template <class E>
const E* caught(const torsion::Failure& failure) {
  try {
    failure.raiseException();
  } catch (const E& e) {
    return &e;
  } catch (...) {
  }
  return nullptr;
}

TEST(FailureTest, ValueIsTheHeldObjectAsACatchWouldSeeIt) {
  const torsion::Failure failure{Derived()};
  EXPECT_EQ(failure.value<Derived>(), caught<Derived>(failure));
  EXPECT_EQ(failure.value<Base>(), caught<Base>(failure));
  EXPECT_EQ(failure.value<std::runtime_error>(), caught<std::runtime_error>(failure));
  EXPECT_EQ(failure.value<std::exception>(), caught<std::exception>(failure));
  EXPECT_NE(failure.value<Base>(), nullptr);
  EXPECT_EQ(failure.value<Unrelated>(), nullptr);
  EXPECT_EQ(failure.value<std::logic_error>(), nullptr);
  EXPECT_TRUE(failure.check<Base>());
  EXPECT_FALSE(failure.check<torsion::ConnectionDone>());
}

TEST(FailureTest, ABaseDoesNotMatchItsDerivedType) {
  const torsion::Failure failure{Base()};
  EXPECT_FALSE(failure.check<Derived>());
  EXPECT_TRUE(failure.check<std::runtime_error>());
}

TEST(FailureTest, CopiesShareTheExceptionObject) {
  auto original = std::make_unique<torsion::Failure>(torsion::ConnectionLost("gone"));
  const torsion::Failure copy = *original;
  const auto* before = original->value<torsion::ConnectionLost>();
  original.reset();  // the copy keeps the object alive
  EXPECT_EQ(copy.value<torsion::ConnectionLost>(), before);
  EXPECT_STREQ(copy.value<torsion::ConnectionLost>()->what(), "gone");
  EXPECT_TRUE(copy.check<torsion::ConnectionLost>());
  EXPECT_FALSE(copy.check<torsion::ConnectionAborted>());
}

TEST(FailureTest, CurrentAndNonStandardExceptions) {
  try {
    throw Derived();
  } catch (...) {
    const auto failure = torsion::Failure::current();
    EXPECT_TRUE(failure.check<Base>());
    EXPECT_EQ(failure.value<Derived>(), caught<Derived>(failure));
    EXPECT_NE(failure.typeName().find("Derived"), std::string::npos);
  }
  const torsion::Failure number{std::make_exception_ptr(42)};
  EXPECT_TRUE(number.check<int>());
  EXPECT_EQ(*number.value<int>(), 42);
  EXPECT_FALSE(number.check<std::exception>());
  EXPECT_EQ(number.getErrorMessage(), "non-standard exception of type int");
}

}  // namespace
