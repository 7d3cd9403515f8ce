// co_await gives the awaited Deferred's type.
#include <torsion/deferred.hpp>

#include <string>

torsion::Deferred<int> twice(torsion::Deferred<int> input) {
#ifdef TORSION_BREAK
  std::string value = co_await input;
  co_return static_cast<int>(value.size());
#else
  int value = co_await input;
  co_return value * 2;
#endif
}

int main() { twice(torsion::succeed(1)); }
