// A Reactor on an internal backend is how attachToIoContext builds one; a user (even a
// class derived from Reactor) can only name a backend.
#include <torsion/reactor.hpp>

#include <memory>
#include <string_view>

struct MyReactor : torsion::Reactor {
#ifdef TORSION_BREAK
  MyReactor() : Reactor(std::unique_ptr<torsion::detail::Backend>()) {}
#else
  MyReactor() : Reactor(std::string_view("poll")) {}
#endif
};

int main() {
  MyReactor reactor;
  (void)reactor.backendName();
}
