// Uses an installed torsion: a reactor and an echo factory, with no socket opened.
#include <torsion/protocols/echo.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>

int main() {
  torsion::Reactor reactor;
  auto factory = torsion::Factory::forProtocol<torsion::protocols::Echo>();
  auto protocol = factory->buildProtocol(torsion::Address{});
  if (!protocol) return 1;
  std::printf("installed torsion works: %s backend\n", reactor.backendName().c_str());
  return 0;
}
