// Firing with a value of the wrong type.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
  torsion::Deferred<void> v;
#ifdef TORSION_BREAK
  d.callback(std::string("one"));
#else
  d.callback(1);
#endif
  v.callback();
}
