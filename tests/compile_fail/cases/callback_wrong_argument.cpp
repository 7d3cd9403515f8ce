// A callback that cannot take the chain's value.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addCallback([](const std::string& s) { return s.size(); });
#else
  d.addCallback([](int n) { return std::to_string(n).size(); });
#endif
  d.callback(1);
}
