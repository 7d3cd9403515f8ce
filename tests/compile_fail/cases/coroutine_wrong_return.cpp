// A coroutine returning Deferred<int> must co_return an int (or a Failure).
#include <torsion/deferred.hpp>

#include <string>

torsion::Deferred<int> answer() {
#ifdef TORSION_BREAK
  co_return std::string("forty-two");
#else
  co_return 42;
#endif
}

int main() { answer(); }
