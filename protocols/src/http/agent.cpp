// Agent: one request through the pool, with retry, redirects, decoding and timeouts.
#include <torsion/http/agent.hpp>
#include <torsion/http/tls_connect.hpp>

#include <torsion/errors.hpp>
#include <torsion/http/client_protocol.hpp>

#include "body_stream.hpp"
#include "content_decoding.hpp"
#include "redirect_rules.hpp"
#include "timer_support.hpp"

#include <optional>
#include <set>
#include <string>
#include <utility>

namespace torsion::http {

namespace {

// What an Agent's requests share; they keep it alive after the Agent is gone.
struct AgentCore {
  IReactorTCP& reactor;
  IReactorTime& clock;
  std::shared_ptr<HTTPConnectionPool> pool;
  AgentOptions options;
};

// Reads a redirect's body (small, usually empty) so its connection can be reused, then
// goes on; a large one is abandoned (its connection closed).
class DrainReceiver : public BodyReceiver {
 public:
  explicit DrainReceiver(std::function<void()> next) : next_(std::move(next)) {}
  void bodyStarted(std::shared_ptr<IPushProducer> producer) override { producer_ = std::move(producer); }
  void bodyReceived(Bytes data) override {
    drained_ += data.size();
    if (drained_ > kMaxDrain && producer_) std::exchange(producer_, nullptr)->stopProducing();
  }
  void bodyFinished(const Failure&) override {
    producer_.reset();
    if (auto next = std::move(next_)) next();
  }

 private:
  static constexpr std::size_t kMaxDrain = 64 * 1024;
  std::function<void()> next_;
  std::shared_ptr<IPushProducer> producer_;
  std::size_t drained_ = 0;
};

// One call of Agent::request, through retries and redirects. Kept alive by the
// Deferreds it waits on (the pool's, the connection's) and, once the response is out,
// by its body stream until the body ends; timers and the canceller refer to it weakly.
class AgentRequest : public std::enable_shared_from_this<AgentRequest> {
 public:
  /// Where the request is.
  enum class Phase { connecting, exchanging, redirecting, delivered, done };

  AgentRequest(std::shared_ptr<AgentCore> core, Request request)
      : core_(std::move(core)), request_(std::move(request)) {}

  Deferred<Response> start() {
    std::weak_ptr<AgentRequest> weak = weak_from_this();
    result_ = Deferred<Response>([weak](Deferred<Response>&) {
      if (auto self = weak.lock()) self->abortWith(Failure(CancelledError("The HTTP request was cancelled")));
    });
    Deferred<Response> result = result_;
    if (core_->options.requestTimeout > 0) {
      const double seconds = core_->options.requestTimeout;
      timer_ = core_->clock.callLater(seconds, [weak, seconds] {
        if (auto self = weak.lock()) {
          self->abortWith(
              Failure(TimeoutError("The HTTP request timed out after " + std::to_string(seconds) + " seconds")));
        }
      });
    }
    visited_.insert(request_.method + " " + request_.url.toString());
    send(false);
    return result;
  }

 private:
  void send(bool fresh) {
    phase_ = Phase::connecting;
    const AgentOptions& options = core_->options;
    const bool proxied = options.proxy && options.proxy->appliesTo(request_.url);
    // https through a proxy is a CONNECT tunnel carrying an origin-form request; http is
    // an absolute-form request to the proxy itself.
    const bool tunnelled = proxied && request_.url.scheme() == "https";
    request_.absoluteForm = proxied && !tunnelled;
    ConnectionKey key{request_.url.scheme(), request_.url.host(), request_.url.port(), std::nullopt};
    if (tunnelled) {
      key.tunnel = TunnelProxy{options.proxy->host, options.proxy->port, options.proxy->authorization};
    } else if (proxied) {
      key = ConnectionKey{"http", options.proxy->host, options.proxy->port, std::nullopt};
    }
    auto self = shared_from_this();
    Deferred<PooledConnection> pending =
        core_->pool->getConnection(key, options.connect, options.connectTimeout, fresh);
    pending_ = pending;
    waitingForConnection_ = true;
    pending.addBoth([self](Result<PooledConnection>&& outcome) {
      self->waitingForConnection_ = false;
      self->pending_ = Deferred<PooledConnection>();
      if (self->phase_ != Phase::connecting) return;
      if (outcome.failed()) return self->fail(outcome.failure());
      self->exchange(std::move(outcome).value());
    });
  }

  void exchange(PooledConnection connection) {
    phase_ = Phase::exchanging;
    protocol_ = connection.protocol;
    auto self = shared_from_this();
    const bool reused = connection.reused;
    Deferred<Response> response;
    try {
      response = connection.protocol->request(request_);
    } catch (...) {
      return fail(Failure::current());
    }
    response.addBoth([self, reused](Result<Response>&& outcome) {
      if (self->phase_ != Phase::exchanging) return;
      if (outcome.failed()) return self->exchangeFailed(outcome.failure(), reused);
      self->responded(std::move(outcome).value());
    });
  }

  void exchangeFailed(const Failure& failure, bool reused) {
    // A kept-alive connection the server had closed: once more on a fresh one.
    if (reused && !retried_ && failure.check<ResponseNeverReceivedError>() && isIdempotent(request_.method)) {
      retried_ = true;
      send(true);
      return;
    }
    fail(failure);
  }

  void responded(Response response) {
    const AgentOptions& options = core_->options;
    if (options.followRedirects && detail::isRedirect(response.code)) return redirect(std::move(response));
    if (options.decompress) response = detail::decodeContent(std::move(response), options.maxDecodedBytes);
    response.request = RequestInfo{request_.method, request_.url, request_.headers};
    response.history = history_;
    phase_ = Phase::delivered;
    if (auto stream = response.bodyStream()) {
      auto self = shared_from_this();
      stream->onFinished([self](const Failure&) { self->bodyEnded(); });
    }
    // Let go of the result once fired: its chain may hold the response, whose body
    // stream holds this request (a cycle if kept).
    auto result = std::move(result_);
    result.callback(std::move(response));
  }

  void redirect(Response response) {
    if (static_cast<int>(history_.size()) >= core_->options.redirectLimit) {
      return fail(Failure(RedirectLimitError("More than " + std::to_string(core_->options.redirectLimit) +
                                             " redirects, the last from " + request_.url.toString())));
    }
    std::optional<detail::RedirectTarget> next;
    try {
      next.emplace(detail::redirectTarget(response.code, request_.method, request_.url, request_.headers, request_.body,
                                          response.headers));
    } catch (...) {
      return fail(Failure::current());
    }
    detail::RedirectTarget& target = *next;
    const std::string visit = target.method + " " + target.url.toString();
    if (!visited_.insert(visit).second) {
      return fail(Failure(
          RedirectLoopError("Redirect loop: " + request_.url.toString() + " leads back to " + target.url.toString())));
    }
    history_.push_back(
        RedirectHop{RequestInfo{request_.method, request_.url, request_.headers}, response.code, response.headers});
    request_.method = std::move(target.method);
    request_.url = std::move(target.url);
    request_.headers = std::move(target.headers);
    request_.body = std::move(target.body);
    retried_ = false;
    phase_ = Phase::redirecting;
    auto self = shared_from_this();
    // The next hop starts once this body is read, so its connection can be reused.
    response.deliverBody(std::make_shared<DrainReceiver>([self] {
      if (self->phase_ == Phase::redirecting) self->send(false);
    }));
  }

  void bodyEnded() {
    phase_ = Phase::done;
    detail::cancelTimer(timer_);
  }

  void fail(const Failure& failure) {
    if (phase_ == Phase::done || phase_ == Phase::delivered) return;
    phase_ = Phase::done;
    detail::cancelTimer(timer_);
    auto result = std::move(result_);
    result.errback(failure);
  }

  void abortWith(const Failure& reason) {
    const Phase phase = phase_;
    if (phase == Phase::done) return;
    if (phase != Phase::delivered) fail(reason);
    phase_ = Phase::done;
    detail::cancelTimer(timer_);
    if (phase == Phase::connecting && waitingForConnection_) {
      waitingForConnection_ = false;
      auto pending = std::move(pending_);
      pending_ = Deferred<PooledConnection>();
      pending.cancel();
    } else if (auto protocol = protocol_.lock()) {
      protocol->abort(reason);
    }
  }

  std::shared_ptr<AgentCore> core_;
  Request request_;
  Deferred<Response> result_;
  Deferred<PooledConnection> pending_;
  std::weak_ptr<HTTP11ClientProtocol> protocol_;
  DelayedCall timer_;
  std::vector<RedirectHop> history_;
  std::set<std::string> visited_;
  Phase phase_ = Phase::connecting;
  bool retried_ = false;
  bool waitingForConnection_ = false;
};

}  // namespace

struct Agent::Core : AgentCore {};

Agent::Agent(IReactorTCP& reactor, IReactorTime& clock, std::shared_ptr<HTTPConnectionPool> pool,
             AgentOptions options) {
  if (!pool) pool = std::make_shared<HTTPConnectionPool>(reactor, clock);
  // https must be verified TLS with no extra code: the default connect is tlsConnect.
  if (!options.connect) options.connect = tlsConnect(options.trustRoot);
  core_ = std::make_shared<Core>(Core{{reactor, clock, std::move(pool), std::move(options)}});
}

Agent::~Agent() = default;

Deferred<Response> Agent::request(std::string_view method, std::string_view url, Headers headers,
                                  std::shared_ptr<BodyProducer> body) {
  try {
    validateMethod(method);
    Url parsed = Url::parse(url);
    if (core_->options.decompress && !headers.has("Accept-Encoding")) headers.add("Accept-Encoding", "gzip, deflate");
    auto request = std::make_shared<AgentRequest>(
        core_, Request{std::string(method), std::move(parsed), std::move(headers), std::move(body), false});
    return request->start();
  } catch (...) {
    Deferred<Response> failed;
    failed.errback();
    return failed;
  }
}

const std::shared_ptr<HTTPConnectionPool>& Agent::pool() const noexcept { return core_->pool; }

const AgentOptions& Agent::options() const noexcept { return core_->options; }

}  // namespace torsion::http
