// A Deferred never carries a Deferred: one returned from a callback is waited for.
#include <torsion/deferred.hpp>

int main() {
#ifdef TORSION_BREAK
  torsion::Deferred<torsion::Deferred<int>> d;
#else
  torsion::Deferred<int> d;
#endif
  (void)d;
}
