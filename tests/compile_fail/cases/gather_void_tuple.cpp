// The tuple form of gatherResults needs values; Deferred<void>s go in the vector form.
#include <torsion/deferred_list.hpp>

#include <vector>

int main() {
  torsion::Deferred<int> a;
  torsion::Deferred<void> b;
#ifdef TORSION_BREAK
  torsion::gatherResults(a, b);
#else
  torsion::gatherResults(a, torsion::Deferred<int>());
  torsion::gatherResults(std::vector{b});
#endif
}
