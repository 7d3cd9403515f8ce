// forProtocol keeps a non-copyable lvalue (a Reactor) and std::ref(x) by reference; a
// copyable lvalue is copied, so a constructor that wants it as `T&` is refused, with a
// message that says to wrap it in std::ref.
#include <torsion/factory.hpp>
#include <torsion/reactor.hpp>

#include <functional>
#include <string>

struct Needs : torsion::Protocol {
  Needs(torsion::Reactor& reactor, const std::string& name, int& counter)
      : reactor(reactor), name(name), counter(counter) {}
  torsion::Reactor& reactor;
  std::string name;
  int& counter;
};

int main() {
  torsion::Reactor* reactor = nullptr;  // only compiled, never run
  int counter = 0;
  std::string name = "n";
#ifdef TORSION_BREAK
  torsion::Factory::forProtocol<Needs>(*reactor, name, counter);
#else
  torsion::Factory::forProtocol<Needs>(*reactor, name, std::ref(counter));
  torsion::ClientFactory::forProtocol<Needs>(*reactor, std::string("n"), std::ref(counter));
#endif
}
