// Test support: the reactor a backend-parameterised test runs on. Besides the backends
// Reactor::availableBackends() names, the suites run on "asio-attached": a Reactor living
// on an asio::io_context the test owns (attachToIoContext), driven through that
// io_context, the way a program embedding torsion in Asio drives it.
#pragma once

#include <torsion/reactor.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace asio {
class io_context;
}

namespace torsion_test {

/// The backend name of a Reactor attached to an io_context the test owns.
inline constexpr std::string_view kAsioAttached = "asio-attached";

/// Every backend built here, then "asio-attached" when Asio is.
std::vector<std::string> backendsUnderTest();

/// Owns the reactor of one test (and, for "asio-attached", the io_context under it):
///
/// @code
/// auto owner = torsion_test::makeReactor(backend());
/// torsion::Reactor& reactor = *owner;
/// @endcode
class TestReactor {
 public:
  /// A reactor on `backend`: a name Reactor's constructor takes, or kAsioAttached.
  explicit TestReactor(std::string_view backend);
  /// Destroys the reactor, then its io_context.
  ~TestReactor();
  TestReactor(TestReactor&&) noexcept;
  TestReactor& operator=(TestReactor&&) = delete;

  torsion::Reactor& operator*() const noexcept { return *reactor_; }
  torsion::Reactor* operator->() const noexcept { return reactor_.get(); }

 private:
  std::unique_ptr<asio::io_context> context_;  // null unless attached
  std::unique_ptr<torsion::Reactor> reactor_;
};

/// The reactor for `backend`; see TestReactor.
inline TestReactor makeReactor(std::string_view backend) { return TestReactor(backend); }

/// True if `reactor` is attached to an io_context a TestReactor owns.
bool isAttached(const torsion::Reactor& reactor);

/// One step of a bounded wait, at most `seconds` long: Reactor::iterate, or for an
/// attached reactor one handler of its io_context (a pass of the reactor, or the timer or
/// readiness that leads to one). Once an attached reactor has stopped, the io_context
/// has nothing of it left to run, so the step is Reactor::iterate, which it allows.
void step(torsion::Reactor& reactor, double seconds);

/// Reactor::run, or for an attached reactor that the io_context has started already (so
/// run() would refuse), runs the io_context until the reactor has stopped and withdrawn.
void run(torsion::Reactor& reactor);

}  // namespace torsion_test
