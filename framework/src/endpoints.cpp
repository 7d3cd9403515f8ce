#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/protocol_wrapper.hpp>

#include "endpoint_description.hpp"

#include <stdexcept>
#include <utility>

namespace torsion {

namespace {

// What a client endpoint's connect() shares between its factory, its protocol wrapper
// and its canceller.
struct PendingConnect {
  Deferred<std::shared_ptr<Protocol>> result;
  std::weak_ptr<Connector> connector;  // weak: the connector owns the factory that owns us

  void succeed(const std::shared_ptr<Protocol>& protocol) {
    if (std::exchange(settled, true)) return;
    result.callback(protocol);
  }
  void fail(const Failure& reason) {
    if (std::exchange(settled, true)) return;
    result.errback(reason);
  }
  bool settled = false;
};

// The endpoint's protocol of a new connection (Twisted's endpoint wrapping protocol):
// its connectionMade hands the connection to the user's protocol and then fires the
// Deferred, so the Deferred fires right after the user's connectionMade without asking
// the reactor for anything but the connection. Twisted's wrapper stays and forwards
// every call; this one has nothing to intercept afterwards, so it steps aside
// (switchProtocol) rather than staying as a ProtocolWrapper: the user's protocol is then
// the transport's own, its transport() is the real one, a half-closeable protocol stays
// half-closeable (a ProtocolWrapper is not), and it can startTLS.
class EndpointProtocol final : public Protocol {
 public:
  EndpointProtocol(std::shared_ptr<Protocol> user, std::shared_ptr<PendingConnect> pending)
      : user_(std::move(user)), pending_(std::move(pending)) {}

  void connectionMade() override {
    std::shared_ptr<PendingConnect> pending = pending_;  // this protocol is off the connection below
    std::shared_ptr<Protocol> user = user_;
    switchProtocol(*this, user);
    pending->succeed(user);
  }

 private:
  std::shared_ptr<Protocol> user_;
  std::shared_ptr<PendingConnect> pending_;
};

// Wraps the user's factory: builds the user's protocol behind an EndpointProtocol, and settles
// the Deferred if the attempt fails (or the connection is lost before connectionMade
// completed, e.g. because it threw).
class EndpointClientFactory final : public ClientFactory {
 public:
  EndpointClientFactory(std::shared_ptr<Factory> wrapped, std::shared_ptr<PendingConnect> pending)
      : wrapped_(std::move(wrapped)), pending_(std::move(pending)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address& address) override {
    auto built = wrapped_->buildProtocol(address);
    if (!built) return nullptr;
    return std::make_shared<EndpointProtocol>(std::move(built), pending_);
  }
  void startFactory() override { wrapped_->doStart(); }
  void stopFactory() override { wrapped_->doStop(); }
  void clientConnectionFailed(Connector&, const Failure& reason) override { pending_->fail(reason); }
  void clientConnectionLost(Connector&, const Failure& reason) override { pending_->fail(reason); }

 private:
  std::shared_ptr<Factory> wrapped_;
  std::shared_ptr<PendingConnect> pending_;
};

template <class Connect>
Deferred<std::shared_ptr<Protocol>> connectWith(std::shared_ptr<Factory> factory, Connect&& connect) {
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
  auto wrapper = std::make_shared<EndpointClientFactory>(std::move(factory), pending);
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

TCPServerEndpoint::TCPServerEndpoint(IReactorTCP& reactor, std::uint16_t port, int backlog, std::string interface)
    : reactor_(reactor), port_(port), backlog_(backlog), interface_(std::move(interface)) {}

Deferred<std::shared_ptr<ListeningPort>> TCPServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return listenWith([&] { return reactor_.listenTCP(port_, std::move(factory), backlog_, interface_); });
}

TCPClientEndpoint::TCPClientEndpoint(IReactorTCP& reactor, std::string host, std::uint16_t port, double timeout,
                                     std::optional<Address> bindAddress)
    : reactor_(reactor), host_(std::move(host)), port_(port), timeout_(timeout), bindAddress_(std::move(bindAddress)) {}

Deferred<std::shared_ptr<Protocol>> TCPClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return connectWith(std::move(factory), [&](std::shared_ptr<ClientFactory> wrapper) {
    return reactor_.connectTCP(host_, port_, std::move(wrapper), timeout_, bindAddress_);
  });
}

UNIXServerEndpoint::UNIXServerEndpoint(IReactorUNIX& reactor, std::string path, int backlog)
    : reactor_(reactor), path_(std::move(path)), backlog_(backlog) {}

Deferred<std::shared_ptr<ListeningPort>> UNIXServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return listenWith([&] { return reactor_.listenUNIX(path_, std::move(factory), backlog_); });
}

UNIXClientEndpoint::UNIXClientEndpoint(IReactorUNIX& reactor, std::string path, double timeout)
    : reactor_(reactor), path_(std::move(path)), timeout_(timeout) {}

Deferred<std::shared_ptr<Protocol>> UNIXClientEndpoint::connect(std::shared_ptr<Factory> factory) {
  return connectWith(std::move(factory), [&](std::shared_ptr<ClientFactory> wrapper) {
    return reactor_.connectUNIX(path_, std::move(wrapper), timeout_);
  });
}

std::shared_ptr<IStreamServerEndpoint> serverFromString(StreamReactors reactor, std::string_view description) {
  auto parsed = detail::parseServerEndpoint(description);
  int backlog = detail::endpointCount(parsed, "backlog", 50);
  if (parsed.type == "tcp") {
    auto interface = parsed.arguments.count("interface") ? parsed.arguments["interface"] : std::string();
    return std::make_shared<TCPServerEndpoint>(reactor.tcp(), detail::endpointPort(parsed, "port"), backlog, interface);
  }
  return std::make_shared<UNIXServerEndpoint>(reactor.unixSockets(), parsed.arguments["address"], backlog);
}

std::shared_ptr<IStreamClientEndpoint> clientFromString(StreamReactors reactor, std::string_view description) {
  auto parsed = detail::parseClientEndpoint(description);
  double timeout = detail::endpointSeconds(parsed, "timeout", 30);
  if (parsed.type == "tcp") {
    std::optional<Address> bindAddress;
    if (parsed.arguments.count("bindAddress")) {
      bindAddress = Address{Address::Family::ipv4, parsed.arguments["bindAddress"], 0};
    }
    return std::make_shared<TCPClientEndpoint>(reactor.tcp(), parsed.arguments["host"],
                                               detail::endpointPort(parsed, "port"), timeout, bindAddress);
  }
  return std::make_shared<UNIXClientEndpoint>(reactor.unixSockets(), parsed.arguments["path"], timeout);
}

}  // namespace torsion
