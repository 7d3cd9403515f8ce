#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/reactor.hpp>

#include "endpoint_description.hpp"
#include "reactor_access.hpp"
#include "reactor_core.hpp"

namespace torsion {

namespace {

// What a client endpoint's connect() shares between its factory and its canceller.
struct PendingConnect {
  Deferred<std::shared_ptr<Protocol>> result;
  std::weak_ptr<Connector> connector;  // weak: the connector owns the factory that owns us
  bool settled = false;
};

// Wraps the user's factory: builds the user's protocol, and settles the Deferred once
// the connection is made (after connectionMade) or has failed.
class EndpointClientFactory final : public ClientFactory {
 public:
  EndpointClientFactory(Reactor& reactor, std::shared_ptr<Factory> wrapped, std::shared_ptr<PendingConnect> pending)
      : reactor_(reactor), wrapped_(std::move(wrapped)), pending_(std::move(pending)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& address) override {
    auto built = wrapped_->buildProtocol(address);
    if (built) {
      // makeConnection runs right after this returns; fire once it has, in this same pass.
      auto pending = pending_;
      detail::ReactorAccess::core(reactor_).callSoon([pending, built] {
        if (pending->settled) return;
        pending->settled = true;
        pending->result.callback(built);
      });
    }
    return built;
  }
  void startFactory() override { wrapped_->doStart(); }
  void stopFactory() override { wrapped_->doStop(); }
  void clientConnectionFailed(Connector&, const Failure& reason) override {
    if (pending_->settled) return;
    pending_->settled = true;
    pending_->result.errback(reason);
  }

 private:
  Reactor& reactor_;
  std::shared_ptr<Factory> wrapped_;
  std::shared_ptr<PendingConnect> pending_;
};

template <class Connect>
Deferred<std::shared_ptr<Protocol>> connectWith(Reactor& reactor, std::shared_ptr<Factory> factory, Connect&& connect) {
  if (!factory) throw std::invalid_argument("endpoint connect: factory is null");
  auto pending = std::make_shared<PendingConnect>();
  std::weak_ptr<PendingConnect> weak = pending;
  pending->result = Deferred<std::shared_ptr<Protocol>>([weak](Deferred<std::shared_ptr<Protocol>>&) {
    auto state = weak.lock();
    if (!state || state->settled) return;
    auto connector = state->connector.lock();
    if (connector && connector->state() == Connector::State::connecting) {
      connector->stopConnecting();  // fails the Deferred with ConnectingCancelledError
    }
  });
  auto wrapper = std::make_shared<EndpointClientFactory>(reactor, std::move(factory), pending);
  pending->connector = connect(wrapper);
  return pending->result;
}

template <class Listen>
Deferred<std::shared_ptr<ListeningPort>> listenWith(Listen&& listen) {
  try {
    return succeed(listen());
  } catch (...) {
    return fail<std::shared_ptr<ListeningPort>>(Failure::current());
  }
}

}  // namespace

TCPServerEndpoint::TCPServerEndpoint(Reactor& reactor, std::uint16_t port, int backlog, std::string interface)
    : reactor_(reactor), port_(port), backlog_(backlog), interface_(std::move(interface)) {}

Deferred<std::shared_ptr<ListeningPort>> TCPServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return listenWith([&] { return reactor_.listenTCP(port_, std::move(factory), backlog_, interface_); });
}

TCPClientEndpoint::TCPClientEndpoint(Reactor& reactor, std::string host, std::uint16_t port, double timeout,
                                     std::optional<Address> bindAddress)
    : reactor_(reactor), host_(std::move(host)), port_(port), timeout_(timeout), bindAddress_(std::move(bindAddress)) {}

Deferred<std::shared_ptr<Protocol>> TCPClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return connectWith(reactor_, std::move(factory), [&](std::shared_ptr<ClientFactory> wrapper) {
    return reactor_.connectTCP(host_, port_, std::move(wrapper), timeout_, bindAddress_);
  });
}

UNIXServerEndpoint::UNIXServerEndpoint(Reactor& reactor, std::string path, int backlog)
    : reactor_(reactor), path_(std::move(path)), backlog_(backlog) {}

Deferred<std::shared_ptr<ListeningPort>> UNIXServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return listenWith([&] { return reactor_.listenUNIX(path_, std::move(factory), backlog_); });
}

UNIXClientEndpoint::UNIXClientEndpoint(Reactor& reactor, std::string path, double timeout)
    : reactor_(reactor), path_(std::move(path)), timeout_(timeout) {}

Deferred<std::shared_ptr<Protocol>> UNIXClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return connectWith(reactor_, std::move(factory), [&](std::shared_ptr<ClientFactory> wrapper) {
    return reactor_.connectUNIX(path_, std::move(wrapper), timeout_);
  });
}

std::shared_ptr<IStreamServerEndpoint> serverFromString(Reactor& reactor, std::string_view description) {
  auto parsed = detail::parseServerEndpoint(description);
  int backlog = detail::endpointCount(parsed, "backlog", 50);
  if (parsed.type == "tcp") {
    auto interface = parsed.arguments.count("interface") ? parsed.arguments["interface"] : std::string();
    return std::make_shared<TCPServerEndpoint>(reactor, detail::endpointPort(parsed, "port"), backlog, interface);
  }
  return std::make_shared<UNIXServerEndpoint>(reactor, parsed.arguments["address"], backlog);
}

std::shared_ptr<IStreamClientEndpoint> clientFromString(Reactor& reactor, std::string_view description) {
  auto parsed = detail::parseClientEndpoint(description);
  double timeout = detail::endpointSeconds(parsed, "timeout", 30);
  if (parsed.type == "tcp") {
    std::optional<Address> bindAddress;
    if (parsed.arguments.count("bindAddress")) {
      bindAddress = Address{Address::Family::ipv4, parsed.arguments["bindAddress"], 0};
    }
    return std::make_shared<TCPClientEndpoint>(reactor, parsed.arguments["host"], detail::endpointPort(parsed, "port"),
                                               timeout, bindAddress);
  }
  return std::make_shared<UNIXClientEndpoint>(reactor, parsed.arguments["path"], timeout);
}

}  // namespace torsion
