// An errback returning nothing would leave a Deferred<int> without an int.
#include <torsion/deferred.hpp>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addErrback([](const torsion::Failure&) {});
#else
  d.addBoth([](const torsion::Result<int>&) {});
#endif
  d.callback(1);
}
