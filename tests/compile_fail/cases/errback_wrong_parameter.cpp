// An errback receives the Failure, not the value.
#include <torsion/deferred.hpp>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addErrback([](int n) { return n; });
#else
  d.addErrback([](const torsion::Failure&) { return 0; });
#endif
  d.callback(1);
}
