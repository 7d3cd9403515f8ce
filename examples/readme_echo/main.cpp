#include <torsion/torsion.hpp>

class Echo : public torsion::Protocol {
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

int main() {
  torsion::Reactor reactor;
  reactor.listenTCP(8000, torsion::Factory::forProtocol<Echo>());
  reactor.run();
}
