// An errback that recovers must produce the chain's type.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addErrback([](const torsion::Failure& f) { return f.getErrorMessage(); });
#else
  d.addErrback([](const torsion::Failure& f) { return static_cast<int>(f.getErrorMessage().size()); });
#endif
  d.callback(1);
}
