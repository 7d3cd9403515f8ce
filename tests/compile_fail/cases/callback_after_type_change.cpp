// After a callback that returns a string, the next callback receives a string.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addCallback([](int n) { return std::to_string(n); }).addCallback([](int n) { return n + 1; });
#else
  d.addCallback([](int n) { return std::to_string(n); }).addCallback([](const std::string& s) { return s + "1"; });
#endif
  d.callback(1);
}
