// In addCallbacks the errback must leave the callback's type.
#include <torsion/deferred.hpp>

#include <string>

int main() {
  torsion::Deferred<int> d;
#ifdef TORSION_BREAK
  d.addCallbacks([](int n) { return std::to_string(n); }, [](const torsion::Failure&) { return 0; });
#else
  d.addCallbacks([](int n) { return std::to_string(n); }, [](const torsion::Failure&) { return std::string("0"); });
#endif
  d.callback(1);
}
