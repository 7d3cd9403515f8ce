// A callback may fail by throwing or by returning a Result, not by returning a Failure.
#include <torsion/deferred.hpp>

#include <stdexcept>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addCallback([](int) { return torsion::Failure(std::runtime_error("no")); });
#else
  d.addCallback([](int) -> torsion::Result<int> {
     return torsion::Failure(std::runtime_error("no"));
   }).addErrback([](const torsion::Failure&) { return 0; });
#endif
  d.callback(1);
}
