// bench/http_fetch: torsion's load client. N request loops share one Agent whose pool
// keeps N persistent connections to the host; each loop sends a GET, reads the body with
// readBody and starts the next. Prints one line of results, like the peers under
// bench/peers/ (curl_multi_fetch.c, twisted_fetch.py); bench/http_fetch/run compares them.
//
//   http_fetch --url URL --connections N --duration S [--warmup S] [--reactor NAME]
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// utime + stime of this process, in microseconds (fields 14 and 15 of /proc/self/stat).
double cpuMicros() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  unsigned long utime = 0;
  unsigned long stime = 0;
  if (std::sscanf(stat.c_str() + close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
      2) {
    return 0;
  }
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Settings {
  std::string url;
  std::size_t connections = 16;
  double duration = 5;
  double warmup = 0;
  std::string reactor;
};

[[noreturn]] void usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: http_fetch --url URL --connections N --duration S [--warmup S] [--reactor NAME]\n");
  std::exit(status);
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") usage(0);
    if (i + 1 >= argc) usage(2);
    const char* value = argv[++i];
    if (arg == "--url") {
      settings.url = value;
    } else if (arg == "--connections") {
      settings.connections = std::strtoul(value, nullptr, 10);
    } else if (arg == "--duration") {
      settings.duration = std::strtod(value, nullptr);
    } else if (arg == "--warmup") {
      settings.warmup = std::strtod(value, nullptr);
    } else if (arg == "--reactor") {
      settings.reactor = value;
    } else {
      usage(2);
    }
  }
  if (settings.url.empty() || settings.connections < 1 || settings.connections > 10000 || settings.duration <= 0) {
    usage(2);
  }
  return settings;
}

// The request loops and what they measured.
class Load {
 public:
  Load(torsion::Reactor& reactor, const Settings& settings) : reactor_(reactor), settings_(settings) {
    torsion::http::PoolOptions poolOptions;
    poolOptions.maxConnectionsPerHost = settings.connections;
    poolOptions.maxIdlePerHost = settings.connections;
    pool_ = std::make_shared<torsion::http::HTTPConnectionPool>(reactor, reactor, poolOptions);
    agent_ = std::make_unique<torsion::http::Agent>(reactor, pool_);
    samples_.reserve(1 << 20);
  }

  void run() {
    const double start = now();
    measureFrom_ = start + settings_.warmup;
    end_ = measureFrom_ + settings_.duration;
    measuring_ = settings_.warmup <= 0;
    measuredStart_ = start;
    cpuStart_ = cpuMicros();
    active_ = settings_.connections;
    for (std::size_t i = 0; i < settings_.connections; ++i) next();
    reactor_.run(false);
    const double elapsed = now() - measuredStart_;
    const double cpu = cpuMicros() - cpuStart_;
    std::sort(samples_.begin(), samples_.end());
    const auto percentile = [&](double p) {
      return samples_.empty() ? 0.0
                              : samples_[static_cast<std::size_t>(static_cast<double>(samples_.size()) * p)] * 1e6;
    };
    std::printf("client=torsion requests=%llu errors=%llu rps=%.0f p50_us=%.0f p99_us=%.0f cpu_us_per_req=%.2f\n",
                static_cast<unsigned long long>(requests_), static_cast<unsigned long long>(errors_),
                static_cast<double>(requests_) / elapsed, percentile(0.5), percentile(0.99),
                requests_ ? cpu / static_cast<double>(requests_) : 0.0);
    if (!firstError_.empty()) std::fprintf(stderr, "http_fetch: first error: %s\n", firstError_.c_str());
  }

  bool failed() const { return errors_ > 0 && requests_ == 0; }

 private:
  void next() {
    const double t = now();
    if (!measuring_ && t >= measureFrom_) {
      measuring_ = true;
      measuredStart_ = t;
      cpuStart_ = cpuMicros();
    }
    if (t >= end_) {
      if (--active_ == 0) reactor_.stop();
      return;
    }
    agent_->request("GET", settings_.url)
        .addCallback(torsion::http::readBody)
        .addCallbacks(
            [this, t](const torsion::http::Response& response) {
              if (measuring_) {
                if (response.code == 200) {
                  ++requests_;
                  samples_.push_back(now() - t);
                } else {
                  ++errors_;
                }
              }
              next();
            },
            [this](const torsion::Failure& failure) {
              if (measuring_) ++errors_;
              if (firstError_.empty()) firstError_ = failure.toString();
              next();
            });
  }

  torsion::Reactor& reactor_;
  const Settings& settings_;
  std::shared_ptr<torsion::http::HTTPConnectionPool> pool_;
  std::unique_ptr<torsion::http::Agent> agent_;
  std::vector<double> samples_;
  double measureFrom_ = 0;
  double end_ = 0;
  double measuredStart_ = 0;
  double cpuStart_ = 0;
  bool measuring_ = false;
  std::size_t active_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::string firstError_;
};

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  auto reactor = settings.reactor.empty() ? std::make_unique<torsion::Reactor>()
                                          : std::make_unique<torsion::Reactor>(settings.reactor);
  Load load(*reactor, settings);
  load.run();
  return load.failed() ? 1 : 0;
}
