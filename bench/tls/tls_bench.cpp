// bench/tls: TLS handshakes per second (full and resumed) and 1 KiB echo messages per
// second, torsion against an Asio ssl::stream echo server and nginx, in one run; and the
// server's CPU per echoed message over TLS against torsion's own plain TCP echo.
//
//   tls_bench run --certificates DIR [--seconds S] [--repeat N] [--smoke]
//   tls_bench drive PORT DIR full|resumed|echo|echo-plain COUNT [CONNECTIONS]
//
// `drive` is the load alone, a fixed number of operations against a server started with
// `serve-torsion`, `serve-asio` or `serve-torsion-plain`, for bench/tls/server_cost.py.
//
// DIR holds server.pem, server.key and ca.pem (tests/tls/make_test_certificates.sh makes
// them). Each server is a separate process (this program re-executed with `serve-...`,
// or nginx), started on a port the system picks and killed after its measurements; its
// CPU time comes from /proc/PID/task/*/schedstat. As bench/run does, the server is pinned
// to one CPU and the load to another, so the two never compete for a core. The load is
// torsion's own TLS client on one reactor, the same for every server. Each measurement
// runs N times (rounds), the servers interleaved in an order rotated every round, and the
// tables show medians.
//
// The load is one reactor doing the client's half of every TLS operation. It never sleeps
// (it polls), so that the server's replies never pay for waking it: the load's CPU is
// always a whole core and says nothing, and the server's busy share says which side set
// the pace. Where the server had CPU to spare the load was the bottleneck and the rate
// measures the load; the headline is therefore the server's CPU time per operation.
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <torsion/tls.hpp>
#include <torsion/torsion.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace tls = torsion::tls;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// ---- servers ------------------------------------------------------------------------

class Echo : public torsion::Protocol {
  void connectionMade() override { transport().setTcpNoDelay(true); }
  void dataReceived(torsion::Bytes data) override { transport().write(data); }
};

int serveTorsion(const std::string& dir, bool plain) {
  torsion::Reactor reactor;
  auto factory = torsion::Factory::forProtocol<Echo>();
  auto port =
      plain ? reactor.listenTCP(0, factory, 1024, "127.0.0.1")
            : tls::listenSSL(reactor, 0, factory, tls::ServerTLSOptions({dir + "/server.pem", dir + "/server.key"}),
                             1024, "127.0.0.1");
  std::printf("listening on 127.0.0.1:%u\n", port->getHost().port);
  std::fflush(stdout);
  reactor.run();
  return 0;
}

// Asio's TLS echo, as a competent Asio user writes it: one io_context, one thread.
class AsioSession : public std::enable_shared_from_this<AsioSession> {
 public:
  AsioSession(asio::ip::tcp::socket socket, asio::ssl::context& context) : stream_(std::move(socket), context) {}
  void start() {
    stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true));
    stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](std::error_code error) {
      if (!error) self->read();
    });
  }

 private:
  void read() {
    stream_.async_read_some(asio::buffer(data_), [self = shared_from_this()](std::error_code error, std::size_t n) {
      if (error) return;
      asio::async_write(self->stream_, asio::buffer(self->data_, n), [self](std::error_code writeError, std::size_t) {
        if (!writeError) self->read();
      });
    });
  }
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  char data_[16384];
};

void acceptLoop(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& context) {
  acceptor.async_accept([&](std::error_code error, asio::ip::tcp::socket socket) {
    if (!error) std::make_shared<AsioSession>(std::move(socket), context)->start();
    acceptLoop(acceptor, context);
  });
}

int serveAsio(const std::string& dir) {
  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.use_certificate_chain_file(dir + "/server.pem");
  context.use_private_key_file(dir + "/server.key", asio::ssl::context::pem);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  acceptLoop(acceptor, context);
  io.run();
  return 0;
}

// ---- CPU time and pinning ---------------------------------------------------------------

// CPU time of every thread of `pid`, in seconds: /proc/PID/task/*/schedstat (nanoseconds),
// or utime + stime from /proc/PID/stat (clock ticks) where schedstat is missing.
double processCpuSeconds(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  double total = 0;
  bool found = false;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(base + "/task", error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    double nanoseconds = 0;
    if (schedstat >> nanoseconds) {
      total += nanoseconds / 1e9;
      found = true;
    }
  }
  if (found) return total;
  std::ifstream stat(base + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  if (text.rfind(')') == std::string::npos) return 0;
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;
  double user = 0, system = 0;
  fields >> user >> system;
  return (user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ownCpuSeconds() {
  timespec spent{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spent);
  return static_cast<double>(spent.tv_sec) + static_cast<double>(spent.tv_nsec) / 1e9;
}

// The CPUs servers and load run on: the first two this process may use, or none (nothing
// pinned) when it may use only one.
struct Pinning {
  int server = -1;
  int load = -1;
  bool active() const { return server >= 0; }
  static Pinning choose() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return {};
    Pinning pinning;
    for (int cpu = 0; cpu < CPU_SETSIZE && pinning.load < 0; ++cpu) {
      if (!CPU_ISSET(cpu, &allowed)) continue;
      (pinning.server < 0 ? pinning.server : pinning.load) = cpu;
    }
    return pinning.load >= 0 ? pinning : Pinning{};
  }
};

bool pin(pid_t pid, int cpu) {
  if (cpu < 0) return true;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::sched_setaffinity(pid, sizeof one, &one) == 0;
}

Pinning gPinning;

// ---- child processes ------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  std::uint16_t port = 0;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
  double cpuSeconds() const { return processCpuSeconds(pid); }
};

// Starts `argv`; if `announces`, reads "listening on 127.0.0.1:PORT" from its stdout.
std::unique_ptr<Child> start(const std::vector<std::string>& argv, bool announces, std::uint16_t port = 0) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) return nullptr;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  auto child = std::make_unique<Child>();
  const int error = ::posix_spawn(&child->pid, args[0], &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (error != 0) {
    ::close(pipeFds[0]);
    child->pid = -1;
    return nullptr;
  }
  child->port = port;
  pin(child->pid, gPinning.server);  // before it serves: its threads inherit the mask
  if (announces) {
    std::string line;
    char c = 0;
    while (::read(pipeFds[0], &c, 1) == 1 && c != '\n') line += c;
    const auto colon = line.rfind(':');
    if (colon == std::string::npos) return nullptr;
    child->port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  }
  ::close(pipeFds[0]);
  return child;
}

// ---- load -----------------------------------------------------------------------------

struct Load {
  torsion::Reactor& reactor;
  std::uint16_t port;
  std::optional<tls::ClientTLSOptions> options;  // none: plain TCP
  double until = 0;
  long long limit = -1;  // operations to start at most (-1: as many as fit before `until`)
  long long started = 0;
  long long done = 0;
  int open = 0;
  long long failures = 0;
  std::string lastFailure;
  // Whether to start one more operation; counts it as started if so.
  bool startAnother() {
    if (now() >= until || (limit >= 0 && started >= limit)) return false;
    ++started;
    return true;
  }
};

// Handshake, then close; the next connection starts when this one is gone. A resumed
// handshake connects with its lane's options, which hold the session; OpenSSL's client
// resumes a TLS 1.3 session once only, so each connection also takes the ticket the server
// sends after the handshake, for the next in its lane: it sends its close_notify and reads
// until the server closes, the ticket coming first. A lane of full handshakes has options
// that keep no session.
class Handshaker : public torsion::Protocol, public tls::IHandshakeListener {
 public:
  Handshaker(Load& load, tls::ClientTLSOptions lane, bool resumes)
      : load_(load), lane_(std::move(lane)), resumes_(resumes) {}
  // The close_notify must not wait for the ACK of the Finished (Nagle's algorithm).
  void connectionMade() override { transport().setTcpNoDelay(true); }
  void handshakeCompleted() override;
  void connectionLost(const torsion::Failure& reason) override;

 private:
  Load& load_;
  tls::ClientTLSOptions lane_;
  bool resumes_;
  bool completed_ = false;
};

void connectHandshaker(Load& load, const tls::ClientTLSOptions& lane, bool resumes) {
  ++load.open;
  tls::connectSSL(load.reactor, "127.0.0.1", load.port,
                  torsion::ClientFactory::forProtocol<Handshaker>(std::ref(load), lane, resumes), lane);
}

void Handshaker::handshakeCompleted() {
  // A "resumed" handshake that was a full one would measure the wrong thing, silently.
  if (dynamic_cast<tls::TLSTransport&>(transport()).sessionReused() != resumes_) {
    ++load_.failures;
    load_.lastFailure = resumes_ ? "a handshake did not resume the session" : "a fresh handshake resumed a session";
  } else {
    ++load_.done;
  }
  completed_ = true;
  transport().loseWriteConnection();
}

void Handshaker::connectionLost(const torsion::Failure& reason) {
  if (!completed_) {  // after the handshake, any end is the one asked for
    ++load_.failures;
    load_.lastFailure = reason.getErrorMessage();
  }
  --load_.open;
  if (load_.startAnother()) connectHandshaker(load_, lane_, resumes_);
}

class EchoLoad : public torsion::Protocol {
 public:
  explicit EchoLoad(Load& load) : load_(load), message_(1024, 'm') {}
  void connectionMade() override {
    transport().setTcpNoDelay(true);
    if (load_.startAnother()) {
      transport().write(message_);
    } else {
      transport().abortConnection();
    }
  }
  void dataReceived(torsion::Bytes data) override {
    received_ += data.size();
    while (received_ >= message_.size()) {
      received_ -= message_.size();
      ++load_.done;
      if (load_.startAnother()) {
        transport().write(message_);
      } else {
        transport().abortConnection();
        return;
      }
    }
  }
  void connectionLost(const torsion::Failure& reason) override {
    if (!reason.check<torsion::ConnectionAborted>()) {
      ++load_.failures;
      load_.lastFailure = reason.getErrorMessage();
    }
    --load_.open;
  }

 private:
  Load& load_;
  std::string message_;
  std::size_t received_ = 0;
};

struct Result {
  double rate = 0;        // operations per second
  double cpuPerOp = 0;    // server CPU seconds per operation
  double serverBusy = 0;  // the server's CPU time over the elapsed time (1 = a whole core)
  double loadBusy = 0;    // the same for the load (this process)
  long long failures = 0;
};

Result measure(Child& server, Load& load, double seconds, const std::function<void()>& startAll) {
  const double cpuBefore = server.cpuSeconds();
  const double loadBefore = ownCpuSeconds();
  const double begin = now();
  load.until = begin + seconds;
  startAll();
  // The load polls without ever sleeping: a server whose reply has to wake a sleeping
  // client pays for that wake-up (on this virtual machine, as much as a third of an echo),
  // and how often it must depended on how far ahead the load was, so the server's CPU per
  // operation swung by half between runs. With the load always awake it repeats.
  while (load.open > 0 && now() < load.until + 5) load.reactor.iterate(0);
  const double elapsed = now() - begin;
  const double serverCpu = server.cpuSeconds() - cpuBefore;
  return {static_cast<double>(load.done) / elapsed, load.done > 0 ? serverCpu / static_cast<double>(load.done) : 0,
          serverCpu / elapsed, (ownCpuSeconds() - loadBefore) / elapsed, load.failures};
}

// The lanes of handshakes, `concurrency` of them, each one connection after the other,
// each with options of its own (one client context, built once: the CA file is not read
// again for every handshake). For resumed handshakes the options keep the session, which
// one full handshake per lane provides first; for full handshakes they keep none.
std::vector<tls::ClientTLSOptions> handshakeLanes(Load& load, const std::string& ca, bool resume, int concurrency) {
  tls::ClientTLSSettings settings;
  settings.resumeSessions = resume;
  std::vector<tls::ClientTLSOptions> lanes;
  for (int i = 0; i < concurrency; ++i) {
    const auto& lane =
        lanes.emplace_back(tls::optionsForClientTLS("localhost", tls::TrustRoot::fromCAFile(ca), {}, settings));
    if (!resume) continue;
    Load warm{load.reactor, load.port, std::nullopt};
    warm.until = now() + 10;
    warm.limit = 0;  // this one only
    connectHandshaker(warm, lane, false);
    while (warm.open > 0 && now() < warm.until) load.reactor.iterate(0.05);
  }
  return lanes;
}

void startHandshakes(Load& load, const std::vector<tls::ClientTLSOptions>& lanes, bool resume) {
  for (const auto& lane : lanes) {
    if (load.startAnother()) connectHandshaker(load, lane, resume);
  }
}

void startEchoes(Load& load, const std::shared_ptr<torsion::ClientFactory>& factory, int connections) {
  for (int i = 0; i < connections; ++i) {
    ++load.open;
    if (load.options) {
      tls::connectSSL(load.reactor, "127.0.0.1", load.port, factory, *load.options);
    } else {
      load.reactor.connectTCP("127.0.0.1", load.port, factory);
    }
  }
}

Result handshakes(Child& server, const std::string& ca, bool resume, double seconds, int concurrency) {
  torsion::Reactor reactor;
  Load load{reactor, server.port, std::nullopt};
  const auto lanes = handshakeLanes(load, ca, resume, concurrency);
  auto result = measure(server, load, seconds, [&] { startHandshakes(load, lanes, resume); });
  if (load.failures > 0) std::cerr << "  (failures: " << load.lastFailure << ")\n";
  return result;
}

Result echo(Child& server, const std::string& ca, bool useTls, double seconds, int connections) {
  torsion::Reactor reactor;
  Load load{reactor, server.port, std::nullopt};
  if (useTls) load.options = tls::optionsForClientTLS("localhost", tls::TrustRoot::fromCAFile(ca));
  auto factory = torsion::ClientFactory::forProtocol<EchoLoad>(std::ref(load));
  auto result = measure(server, load, seconds, [&] { startEchoes(load, factory, connections); });
  if (load.failures > 0) std::cerr << "  (failures: " << load.lastFailure << ")\n";
  return result;
}

// `tls_bench drive`: exactly `count` operations of one kind against a server already
// running on `port`, the handshakes one after the other, the echoes over `connections`
// connections; bench/tls/server_cost.py counts what the server did for them.
int drive(std::uint16_t port, const std::string& dir, const std::string& operation, long long count, int connections) {
  const std::string ca = dir + "/ca.pem";
  torsion::Reactor reactor;
  Load load{reactor, port, std::nullopt};
  if (operation == "echo") load.options = tls::optionsForClientTLS("localhost", tls::TrustRoot::fromCAFile(ca));
  const auto lanes = handshakeLanes(load, ca, operation == "resumed", 1);
  load.until = now() + 600;
  load.limit = count;
  auto factory = torsion::ClientFactory::forProtocol<EchoLoad>(std::ref(load));
  if (operation == "full" || operation == "resumed") {
    startHandshakes(load, lanes, operation == "resumed");
  } else if (operation == "echo" || operation == "echo-plain") {
    startEchoes(load, factory, connections);
  } else {
    std::cerr << "tls_bench drive: unknown operation '" << operation << "'\n";
    return 2;
  }
  while (load.open > 0 && now() < load.until) reactor.iterate(0.05);
  if (load.done != count || load.failures > 0) {
    std::cerr << "tls_bench drive: " << load.done << " of " << count << " " << operation << " done, " << load.failures
              << " failed " << load.lastFailure << "\n";
    return 1;
  }
  return 0;
}

std::unique_ptr<Child> startNginx(const std::string& dir, const std::string& work) {
  if (!std::filesystem::exists("/usr/sbin/nginx")) return nullptr;
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  const auto port = ntohs(address.sin_port);
  ::close(probe);
  std::ofstream(work + "/nginx.conf")
      << "daemon off; master_process off; worker_processes 1; pid " << work << "/nginx.pid; error_log " << work
      << "/error.log;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  client_body_temp_path " << work
      << "; proxy_temp_path " << work << "; fastcgi_temp_path " << work << "; uwsgi_temp_path " << work
      << "; scgi_temp_path " << work << ";\n  server {\n    listen 127.0.0.1:" << port << " ssl;\n"
      << "    ssl_certificate " << dir << "/server.pem;\n    ssl_certificate_key " << dir << "/server.key;\n"
      << "    location / { return 200 \"ok\\n\"; }\n  }\n}\n";
  auto child =
      start({"/usr/sbin/nginx", "-p", work, "-e", work + "/error.log", "-c", work + "/nginx.conf"}, false, port);
  for (int i = 0; i < 200 && child; ++i) {  // wait until it accepts
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (up) return child;
    ::usleep(20000);
  }
  return nullptr;
}

// ---- rounds, medians and the report ---------------------------------------------------

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// The medians of one measurement (one server, one kind of operation) over the rounds.
struct Summary {
  std::vector<Result> rounds;
  double median(double Result::*field) const {
    std::vector<double> values;
    for (const Result& result : rounds) values.push_back(result.*field);
    return ::median(values);
  }
  double rate() const { return median(&Result::rate); }
  double cpuPerOp() const { return median(&Result::cpuPerOp); }
  // The spread of the rounds' CPU per operation, in percent of the median.
  double spreadPercent() const {
    if (rounds.size() < 2 || cpuPerOp() <= 0) return 0;
    auto [low, high] = std::minmax_element(rounds.begin(), rounds.end(),
                                           [](const Result& a, const Result& b) { return a.cpuPerOp < b.cpuPerOp; });
    return 100 * (high->cpuPerOp - low->cpuPerOp) / cpuPerOp();
  }
  // The server had CPU to spare while the load (one polling reactor, always a whole core)
  // ran: the load set the pace, so the rate says more about the load than the server.
  bool loadBound() const { return median(&Result::serverBusy) < 0.85; }
  // The polling load got well under a core: other processes had the CPUs.
  bool crowded() const { return median(&Result::loadBusy) < 0.8; }
};

enum class Operation { fullHandshake, resumedHandshake, echo };

const char* operationName(Operation operation) {
  switch (operation) {
    case Operation::fullHandshake: return "full handshake";
    case Operation::resumedHandshake: return "resumed handshake";
    case Operation::echo: return "1 KiB echo";
  }
  return "?";
}

struct Server {
  std::string name;
  std::function<std::unique_ptr<Child>()> start;
  std::vector<Operation> operations;
  bool tls = true;
  bool available = true;
  std::map<Operation, Summary> results;
};

// One round for `server`: a fresh process, each of its operations measured once.
int measureRound(Server& server, const std::string& ca, double seconds, bool smoke) {
  const int handshakeConcurrency = smoke ? 2 : 8;
  const int echoConnections = smoke ? 4 : 50;
  auto child = server.start();
  if (!child) {
    server.available = false;
    return 0;
  }
  int failures = 0;
  for (Operation operation : server.operations) {
    Result result = operation == Operation::echo ? echo(*child, ca, server.tls, seconds, echoConnections)
                                                 : handshakes(*child, ca, operation == Operation::resumedHandshake,
                                                              seconds, handshakeConcurrency);
    failures += static_cast<int>(result.failures) + (result.rate == 0 ? 1 : 0);
    server.results[operation].rounds.push_back(result);
  }
  return failures;
}

std::string cell(const Server& server, Operation operation) {
  auto found = server.results.find(operation);
  if (!server.available) return "(not available)";
  if (found == server.results.end()) return "-";
  const Summary& summary = found->second;
  char text[96];
  std::snprintf(text, sizeof text, "%8.0f/s %7.1f us%s", summary.rate(), summary.cpuPerOp() * 1e6,
                summary.spreadPercent() >= 10 ? "~" : " ");
  return text;
}

void printTable(const std::vector<Server>& servers) {
  std::printf("%-16s %-22s %-22s %-22s\n", "server", "full handshake", "resumed handshake", "1 KiB echo");
  std::printf("%-16s %-22s %-22s %-22s\n", "", "rate  server CPU/op", "rate  server CPU/op", "rate  server CPU/op");
  for (const Server& server : servers) {
    std::printf("%-16s %-22s %-22s %-22s\n", server.name.c_str(), cell(server, Operation::fullHandshake).c_str(),
                cell(server, Operation::resumedHandshake).c_str(), cell(server, Operation::echo).c_str());
  }
  std::printf("(medians; ~ marks a CPU/op whose rounds spread by 10%% or more)\n");
  for (const Server& server : servers) {
    for (const auto& [operation, summary] : server.results) {
      std::printf("  %-14s %-18s server busy %3.0f%%, load busy %3.0f%%%s\n", server.name.c_str(),
                  operationName(operation), 100 * summary.median(&Result::serverBusy),
                  100 * summary.median(&Result::loadBusy),
                  summary.crowded()     ? "  <- the load got under 80% of a core: other processes ran, noise"
                  : summary.loadBound() ? "  <- the load saturated first: the rate measures the load"
                                        : "");
    }
  }
}

const Summary* find(const std::vector<Server>& servers, const std::string& name, Operation operation) {
  for (const Server& server : servers) {
    auto found = server.results.find(operation);
    if (server.name == name && found != server.results.end()) return &found->second;
  }
  return nullptr;
}

// The ratios issue 12 states its targets in. Asio / torsion of the server CPU per
// operation is the headline (>= 1.0 means torsion's server does the work in less CPU);
// the rate ratio is printed with it, marked when a load that saturated first makes it
// say little about the servers.
void printRatios(const std::vector<Server>& servers) {
  std::printf("\n");
  for (Operation operation : {Operation::fullHandshake, Operation::resumedHandshake, Operation::echo}) {
    const Summary* ours = find(servers, "torsion TLS", operation);
    const Summary* asio = find(servers, "Asio ssl", operation);
    if (ours == nullptr || asio == nullptr || ours->cpuPerOp() <= 0 || asio->rate() <= 0) continue;
    std::printf("torsion vs Asio, %-18s server CPU/op Asio/torsion %.2fx (target >= 1.0); rate torsion/Asio %.2fx%s\n",
                (std::string(operationName(operation)) + ":").c_str(), asio->cpuPerOp() / ours->cpuPerOp(),
                ours->rate() / asio->rate(),
                ours->loadBound() || asio->loadBound() ? " (load-bound: not a server comparison)" : "");
  }
  const Summary* tlsEcho = find(servers, "torsion TLS", Operation::echo);
  const Summary* plainEcho = find(servers, "torsion plain", Operation::echo);
  if (tlsEcho != nullptr && plainEcho != nullptr && plainEcho->cpuPerOp() > 0) {
    std::printf("torsion TLS vs plain TCP, 1 KiB echo: server CPU/op TLS/plain %.2fx (target <= 1.5)\n",
                tlsEcho->cpuPerOp() / plainEcho->cpuPerOp());
  }
}

int run(const std::string& self, const std::string& dir, double seconds, int repeat, bool smoke) {
  const std::string ca = dir + "/ca.pem";
  gPinning = Pinning::choose();
  if (gPinning.active() && !pin(0, gPinning.load)) gPinning = {};
  std::printf("bench/tls: %.1f s per measurement, %d round%s (servers interleaved, order rotated), medians%s\n",
              seconds, repeat, repeat == 1 ? "" : "s", smoke ? " (smoke)" : "");
  if (gPinning.active()) {
    std::printf("servers pinned to CPU %d, the load (torsion's TLS client, one reactor) to CPU %d\n", gPinning.server,
                gPinning.load);
  } else {
    std::printf("NOT pinned (fewer than 2 CPUs usable): servers and load share the CPUs; the figures are noise\n");
  }
  std::printf("\n");

  char pattern[] = "/tmp/torsion-bench-nginx-XXXXXX";
  const bool nginxDir = ::mkdtemp(pattern) != nullptr;
  const std::vector<Operation> all{Operation::fullHandshake, Operation::resumedHandshake, Operation::echo};
  std::vector<Server> servers{
      {"torsion TLS",
       [&] {
         return start({self, "serve-torsion", dir}, true);
       },
       all},
      {"Asio ssl",
       [&] {
         return start({self, "serve-asio", dir}, true);
       },
       all},
      // nginx serves a fixed HTTP reply: only its handshakes are measured.
      {"nginx (https)",
       [&] { return nginxDir ? startNginx(dir, pattern) : nullptr; },
       {Operation::fullHandshake, Operation::resumedHandshake}},
      {"torsion plain",
       [&] {
         return start({self, "serve-torsion-plain", dir}, true);
       },
       {Operation::echo},
       false},
  };
  int failures = 0;
  for (int round = 0; round < repeat; ++round) {
    for (std::size_t i = 0; i < servers.size(); ++i) {
      Server& server = servers[(i + static_cast<std::size_t>(round)) % servers.size()];
      if (server.available) failures += measureRound(server, ca, seconds, smoke);
    }
  }
  if (nginxDir) std::filesystem::remove_all(pattern);
  for (const Server& server : servers) {
    if (!server.available && server.name != "nginx (https)") ++failures;  // nginx is optional
  }
  printTable(servers);
  printRatios(servers);
  std::printf("(resumed: TLS 1.3 tickets; CPU/op is the server's CPU time per operation, kernel included)\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "serve-torsion") return serveTorsion(args[1], false);
  if (args.size() == 2 && args[0] == "serve-torsion-plain") return serveTorsion(args[1], true);
  if (args.size() == 2 && args[0] == "serve-asio") return serveAsio(args[1]);
  ::signal(SIGPIPE, SIG_IGN);  // the Asio peer's writes to closed sockets, inherited by the children
  if (args.size() >= 5 && args[0] == "drive") {
    return drive(static_cast<std::uint16_t>(std::stoi(args[1])), args[2], args[3], std::stoll(args[4]),
                 args.size() > 5 ? std::stoi(args[5]) : 1);
  }
  std::string dir;
  double seconds = 3;
  int repeat = 3;
  bool smoke = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--certificates" && i + 1 < args.size()) {
      dir = std::filesystem::absolute(args[++i]).string();  // nginx runs in another directory
    } else if (args[i] == "--seconds" && i + 1 < args.size()) {
      seconds = std::stod(args[++i]);
    } else if (args[i] == "--repeat" && i + 1 < args.size()) {
      repeat = std::max(1, std::stoi(args[++i]));
    } else if (args[i] == "--smoke") {
      smoke = true;
      seconds = 0.3;
      repeat = 1;
    }
  }
  if (args.empty() || args[0] != "run" || dir.empty()) {
    std::cerr << "usage: tls_bench run --certificates DIR [--seconds S] [--repeat N] [--smoke]\n"
                 "       tls_bench drive PORT DIR full|resumed|echo|echo-plain COUNT [CONNECTIONS]\n"
                 "DIR holds server.pem, server.key and ca.pem (tests/tls/make_test_certificates.sh DIR makes them)\n";
    return 2;
  }
  return run(std::filesystem::canonical("/proc/self/exe").string(), dir, seconds, repeat, smoke);
}
