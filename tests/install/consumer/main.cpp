// Uses an installed torsion: a reactor, and the echo protocol driven through the testing
// helpers' StringTransport, with no socket opened. torsion.hpp brings in the Deferred's
// coroutine support, so this only compiles if the package carries C++20.
#include <torsion/protocols/echo.hpp>
#include <torsion/testing.hpp>
#include <torsion/torsion.hpp>

#include <cstdio>
#include <memory>

int main() {
  torsion::Reactor reactor;
  auto factory = torsion::Factory::forProtocol<torsion::protocols::Echo>();
  auto protocol = factory->buildProtocol(torsion::Address{});
  if (!protocol) return 1;
  auto transport = std::make_shared<torsion::testing::StringTransport>();
  transport->makeConnection(*protocol);
  transport->receive("ping");
  if (transport->value() != "ping") return 2;
  std::printf("installed torsion works: %s backend, echo over StringTransport\n", reactor.backendName().c_str());
  return 0;
}
