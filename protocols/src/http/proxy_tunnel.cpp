// connectThroughProxy: CONNECT through an HTTP proxy, then the caller's protocol on the
// same connection.
#include <torsion/http/proxy_tunnel.hpp>

#include <torsion/errors.hpp>
#include <torsion/http/errors.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/response_parser.hpp>
#include <torsion/protocol_wrapper.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace torsion::http {

namespace {

// Where a tunnel is. The factory and the connector read it; the protocol moves it.
enum class TunnelPhase {
  reachingProxy,  // the TCP connection to the proxy is being made
  askingProxy,    // CONNECT sent, the answer not complete
  open,           // the caller's protocol has the connection
  failed,         // ended before opening; `failure` says why once the connection is gone
};

// What the factory, the protocol and the connector of one tunnel share. It refers to
// the connector weakly: the caller owns it, and the connection must not keep it alive.
struct TunnelState {
  ConnectionKey key;
  std::shared_ptr<ClientFactory> target;
  std::string request;  // the CONNECT request's bytes
  TunnelPhase phase = TunnelPhase::reachingProxy;
  std::optional<Failure> failure;
  std::weak_ptr<Connector> facade;

  std::string proxyName() const { return key.tunnel->host + ":" + std::to_string(key.tunnel->port); }
  std::string targetName() const { return key.host + ":" + std::to_string(key.port); }

  void failWith(Failure reason) {
    if (phase == TunnelPhase::failed) return;
    phase = TunnelPhase::failed;
    failure = std::move(reason);
  }

  // The Connector the target factory is told of: the caller's, else (gone) the TCP one.
  template <class F>
  void withConnector(Connector& tcp, F&& call) {
    auto held = facade.lock();
    call(held ? *held : tcp);
  }
};

std::string authorityOf(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The protocol of the proxy's connection until the tunnel opens: sends CONNECT, reads
// the answer, then hands the connection to the target factory's protocol.
class TunnelProtocol : public Protocol, private ResponseSink {
 public:
  explicit TunnelProtocol(std::shared_ptr<TunnelState> state)
      : state_(std::move(state)), parser_(ResponseLimits{.maxHeaderBytes = maxProxyAnswerBytes}) {}

  void connectionMade() override {
    state_->phase = TunnelPhase::askingProxy;
    parser_.startResponse("CONNECT");
    transport().write(state_->request);
  }

  void dataReceived(Bytes data) override {
    if (state_->phase != TunnelPhase::askingProxy) return;
    std::size_t used = 0;
    std::optional<std::string> malformed;
    try {
      used = parser_.feed(data, *this);
    } catch (const HttpError& error) {
      malformed = error.what();
    }
    if (head_ && (head_->code < 200 || head_->code >= 300)) {
      return refuse(ProxyConnectError("The proxy " + state_->proxyName() + " refused CONNECT " + state_->targetName() +
                                          ": " + std::to_string(head_->code) +
                                          (head_->phrase.empty() ? "" : " " + head_->phrase),
                                      head_->code));
    }
    if (malformed) {
      return refuse(ProxyConnectError("The proxy " + state_->proxyName() + " answered CONNECT " + state_->targetName() +
                                      " with what is not a valid HTTP answer: " + *malformed));
    }
    if (!head_) return;
    open(data.substr(used));
  }

  void connectionLost(const Failure&) override {
    if (state_->phase == TunnelPhase::askingProxy) {
      state_->failWith(
          Failure(ProxyConnectError("The proxy " + state_->proxyName() +
                                    " closed the connection before answering CONNECT " + state_->targetName())));
    }
  }

 private:
  void headReceived(ResponseHead head) override { head_ = std::move(head); }
  void bodyReceived(Bytes) override {}  // a refusal's page: not read further
  void responseComplete(Headers) override {}

  void refuse(ProxyConnectError error) {
    state_->failWith(Failure(std::move(error)));
    transport().abortConnection();  // never reused: the clientConnectionLost reports it
  }

  // The tunnel is open: the target's protocol takes the connection, and the bytes that
  // came after the proxy's answer are its first.
  void open(Bytes rest) {
    auto protocol = state_->target->buildProtocol(transport().getPeer());
    if (!protocol) {
      state_->failWith(Failure(ConnectingCancelledError("The tunnel to " + state_->targetName() + " through " +
                                                        state_->proxyName() + " was not wanted any more")));
      transport().abortConnection();
      return;
    }
    std::shared_ptr<TunnelState> state = state_;  // this protocol is off the connection once switched
    state->phase = TunnelPhase::open;             // from here the loss is the target protocol's
    switchProtocol(*this, std::move(protocol), rest);
  }

  std::shared_ptr<TunnelState> state_;
  ResponseParser parser_;
  std::optional<ResponseHead> head_;
};

// The factory of the proxy's TCP connection: builds the TunnelProtocol and tells the
// target factory how the attempt went, in the target's terms.
class TunnelFactory : public ClientFactory {
 public:
  explicit TunnelFactory(std::shared_ptr<TunnelState> state) : state_(std::move(state)) {}

  std::shared_ptr<Protocol> buildProtocol(const Address&) override { return std::make_shared<TunnelProtocol>(state_); }
  void startFactory() override { state_->target->doStart(); }
  void stopFactory() override { state_->target->doStop(); }
  void startedConnecting(Connector& tcp) override {
    state_->phase = TunnelPhase::reachingProxy;
    state_->failure.reset();
    state_->withConnector(tcp, [&](Connector& c) { state_->target->startedConnecting(c); });
  }
  void clientConnectionFailed(Connector& tcp, const Failure& reason) override {
    state_->failWith(reason);
    state_->withConnector(tcp, [&](Connector& c) { state_->target->clientConnectionFailed(c, *state_->failure); });
  }
  void clientConnectionLost(Connector& tcp, const Failure& reason) override {
    if (state_->phase == TunnelPhase::open) {
      state_->withConnector(tcp, [&](Connector& c) { state_->target->clientConnectionLost(c, reason); });
      return;
    }
    state_->failWith(reason);  // keeps the reason the protocol gave, if any
    state_->withConnector(tcp, [&](Connector& c) { state_->target->clientConnectionFailed(c, *state_->failure); });
  }

 private:
  std::shared_ptr<TunnelState> state_;
};

// What the caller holds: `connecting` until the tunnel is open.
class TunnelConnector : public Connector {
 public:
  TunnelConnector(std::shared_ptr<TunnelState> state, std::shared_ptr<Connector> tcp)
      : state_(std::move(state)), tcp_(std::move(tcp)) {}

  void connect() override {
    if (state() != State::disconnected) throw std::logic_error("Connector::connect: already connecting or connected");
    tcp_->connect();
  }
  void stopConnecting() override {
    if (tcp_->state() == State::connecting) return tcp_->stopConnecting();
    if (state() != State::connecting) throw std::logic_error("Connector::stopConnecting: not connecting");
    state_->failWith(Failure(ConnectingCancelledError()));
    if (auto transport = tcp_->transport()) transport->abortConnection();
  }
  void disconnect() override {
    if (state() == State::connecting) return stopConnecting();
    tcp_->disconnect();
  }
  Address getDestination() const override { return tcp_->getDestination(); }
  State state() const override {
    const State tcp = tcp_->state();
    if (tcp != State::connected) return tcp;
    switch (state_->phase) {
      case TunnelPhase::reachingProxy:
      case TunnelPhase::askingProxy: return State::connecting;
      case TunnelPhase::open: return State::connected;
      case TunnelPhase::failed: break;
    }
    return State::disconnected;  // the proxy's connection is going away
  }
  std::shared_ptr<Transport> transport() const override {
    return state() == State::connected ? tcp_->transport() : nullptr;
  }

 private:
  std::shared_ptr<TunnelState> state_;
  std::shared_ptr<Connector> tcp_;
};

}  // namespace

std::shared_ptr<Connector> connectThroughProxy(IReactorTCP& reactor, const ConnectionKey& key,
                                               std::shared_ptr<ClientFactory> factory, double timeout) {
  if (!key.tunnel) throw std::invalid_argument("connectThroughProxy: the ConnectionKey has no tunnel proxy");
  auto state = std::make_shared<TunnelState>();
  state->key = key;
  state->target = std::move(factory);
  // Headers checks what goes into the head: a CR or LF here would forge a request.
  const std::string target = authorityOf(key.host, key.port);
  Headers headers;
  headers.add("Host", target);
  if (!key.tunnel->authorization.empty()) headers.add("Proxy-Authorization", key.tunnel->authorization);
  state->request = "CONNECT " + target + " HTTP/1.1\r\n";
  for (const auto& field : headers) state->request += field.name + ": " + field.value + "\r\n";
  state->request += "\r\n";
  auto tcp = reactor.connectTCP(key.tunnel->host, key.tunnel->port, std::make_shared<TunnelFactory>(state), timeout);
  auto connector = std::make_shared<TunnelConnector>(state, std::move(tcp));
  state->facade = connector;
  return connector;
}

}  // namespace torsion::http
