// The reactor's core is torsion's internal type: a user's Reactor has no accessor for it.
#include <torsion/reactor.hpp>

int main() {
  torsion::Reactor reactor;
  reactor.callWhenRunning([&reactor] { reactor.stop(); });
#ifdef TORSION_BREAK
  (void)reactor.core();
#endif
  reactor.run(false);
}
