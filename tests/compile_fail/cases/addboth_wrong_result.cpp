// addBoth receives a Result of the chain's type.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addBoth([](const torsion::Result<std::string>&) {});
#else
  d.addBoth([](const torsion::Result<int>&) {});
#endif
  d.callback(1);
}
