// fetch: fetches URLs with torsion's HTTP client, one after another or all at once, and
// prints one line per URL: `<status> <body bytes> <sha256> <url>` or `error <url>: <message>`.
// Without URLs it serves slow pages itself and fetches them both ways: the event loop's
// lesson (Twisted's getPage example) offline. `fetch --help` tells the whole contract.
#include <torsion/http/client.hpp>
#include <torsion/torsion.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fetch_options.hpp"
#include "page_server.hpp"
#include "sha256.hpp"

namespace fetch_example {
namespace {

/// How one URL went.
struct Outcome {
  bool ok = false;
  int status = 0;
  std::uint64_t bytes = 0;
  std::string sha256;
  std::string error;
};

std::string oneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string describe(const Outcome& outcome, const std::string& url) {
  if (!outcome.ok) return "error " + url + ": " + oneLine(outcome.error);
  return std::to_string(outcome.status) + " " + std::to_string(outcome.bytes) + " " + outcome.sha256 + " " + url;
}

// A file name for the body of `url` in --output: the last path segment, with anything
// but letters, digits, '.', '-' and '_' replaced, never "", "." or ".." (so never outside
// the directory), made unique among the URLs of this run.
std::string outputName(const std::string& url, std::set<std::string>& taken) {
  std::string segment;
  try {
    const auto path = torsion::http::Url::parse(url).path();
    segment = path.substr(path.find_last_of('/') + 1);
  } catch (const torsion::http::HttpError&) {
    // the request will fail with the same error; any name will do
  }
  for (char& c : segment) {
    const bool safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!safe) c = '_';
  }
  if (segment.empty() || segment == "." || segment == "..") segment = "index.html";
  std::string name = segment;
  for (int n = 2; !taken.insert(name).second; ++n) name = segment + "." + std::to_string(n);
  return name;
}

/// Fetches the URLs of one run with one Agent (and its pool) on one reactor.
class Fetcher {
 public:
  Fetcher(torsion::Reactor& reactor, const FetchOptions& options) : reactor_(reactor), options_(options) {
    torsion::http::PoolOptions poolOptions;
    // Concurrent means concurrent: no URL waits in the pool's queue for another.
    poolOptions.maxConnectionsPerHost = std::max<std::size_t>(6, options.urls.size());
    poolOptions.maxIdlePerHost = poolOptions.maxConnectionsPerHost;
    pool_ = std::make_shared<torsion::http::HTTPConnectionPool>(reactor, reactor, poolOptions);
    agent_ = std::make_unique<torsion::http::Agent>(reactor, pool_, agentOptions());
    std::set<std::string> taken;
    for (const auto& url : options.urls) files_.push_back(options.outputDir.empty() ? "" : outputName(url, taken));
  }

  /// Fetches every URL in `mode` (sequential or concurrent), printing each line as soon
  /// as it and the lines before it are known when `print`; returns the outcomes and the
  /// seconds it took.
  std::pair<std::vector<Outcome>, double> run(Mode mode, bool print) {
    outcomes_.assign(options_.urls.size(), Outcome{});
    finished_.assign(options_.urls.size(), false);
    printed_ = 0;
    remaining_ = options_.urls.size();
    print_ = print;
    const auto began = std::chrono::steady_clock::now();
    if (mode == Mode::sequential) {
      startSequential(0);
    } else {
      for (std::size_t i = 0; i < options_.urls.size(); ++i) start(i, [] {});
    }
    if (remaining_ > 0) reactor_.run();
    return {outcomes_, std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count()};
  }

 private:
  torsion::http::AgentOptions agentOptions() const {
    torsion::http::AgentOptions agent;
    agent.connectTimeout = options_.timeout;
    agent.requestTimeout = options_.timeout;
    agent.decompress = options_.compressed;
    agent.maxDecodedBytes = options_.maxBody;
    if (!options_.cafile.empty()) agent.trustRoot = torsion::tls::TrustRoot::fromCAFile(options_.cafile);
    agent.proxy = options_.proxy;
    return agent;
  }

  std::shared_ptr<torsion::http::BodyProducer> body() const {
    if (!options_.data) return nullptr;
    return std::make_shared<torsion::http::StringBodyProducer>(*options_.data);
  }

  void startSequential(std::size_t index) {
    if (index == options_.urls.size()) return;
    start(index, [this, index] { startSequential(index + 1); });
  }

  // Fetches URL `index`; records the outcome, then calls `next`.
  template <class Next>
  void start(std::size_t index, Next next) {
    fetch(index)
        .addErrback([](const torsion::Failure& failure) {
          Outcome outcome;
          outcome.error = failure.getErrorMessage();
          return outcome;
        })
        .addCallback([this, index, next](Outcome outcome) {
          finish(index, std::move(outcome));
          next();
        });
  }

  torsion::Deferred<Outcome> fetch(std::size_t index) {
    const std::string& url = options_.urls[index];
    if (!options_.outputDir.empty()) {
      // Streamed to the file as it arrives; the hash is taken from the file afterwards.
      const std::string path = (std::filesystem::path(options_.outputDir) / files_[index]).string();
      torsion::http::PageOptions page;
      page.method = options_.method;
      page.headers = options_.headers;
      page.body = body();
      page.maxBodyBytes = options_.maxBody;
      page.agent = agentOptions();
      return torsion::http::downloadPage(reactor_, url, path, nullptr, std::move(page))
          .addCallback([path](const torsion::http::Response& response) {
            const auto [size, hash] = sha256File(path);
            return Outcome{true, response.code, size, hash, {}};
          });
    }
    return agent_->request(options_.method, url, options_.headers, body())
        .addCallback(torsion::http::readBody.withLimit(options_.maxBody))
        .addCallback([](const torsion::http::Response& response) {
          return Outcome{true, response.code, response.body.size(), sha256Hex(response.body), {}};
        });
  }

  void finish(std::size_t index, Outcome outcome) {
    outcomes_[index] = std::move(outcome);
    finished_[index] = true;
    // Lines go out in the order of the URLs, each as soon as those before it are done.
    while (print_ && printed_ < finished_.size() && finished_[printed_]) {
      std::cout << describe(outcomes_[printed_], options_.urls[printed_]) << std::endl;
      ++printed_;
    }
    if (--remaining_ == 0 && reactor_.running()) reactor_.stop();
  }

  torsion::Reactor& reactor_;
  const FetchOptions& options_;
  std::shared_ptr<torsion::http::HTTPConnectionPool> pool_;
  std::unique_ptr<torsion::http::Agent> agent_;
  std::vector<std::string> files_;
  std::vector<Outcome> outcomes_;
  std::vector<bool> finished_;
  std::size_t printed_ = 0;
  std::size_t remaining_ = 0;
  bool print_ = true;
};

bool allOk(const std::vector<Outcome>& outcomes) {
  return std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.ok; });
}

int fetchMain(int argc, char** argv) {
  FetchOptions options = parseOptions(argc, argv);
  const bool offline = options.urls.empty();
  const Mode mode = options.mode.value_or(offline ? Mode::both : Mode::concurrent);
  if (!options.outputDir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.outputDir, error);
    if (error) usageError("--output: cannot create '" + options.outputDir + "': " + error.message());
  }

  torsion::Reactor reactor;
  std::shared_ptr<torsion::ListeningPort> server;
  if (offline) {
    server = listenPages(reactor, options.delayMs / 1000);
    const auto port = std::to_string(server->getHost().port);
    for (int page = 1; page <= options.pages; ++page) {
      options.urls.push_back("http://127.0.0.1:" + port + "/page/" + std::to_string(page));
    }
    std::cerr << "fetch: serving " << options.pages << " pages on 127.0.0.1:" << port << ", each after "
              << options.delayMs << " ms\n";
  }

  bool ok = true;
  double sequentialSeconds = 0;
  double concurrentSeconds = 0;
  if (mode == Mode::sequential || mode == Mode::both) {
    Fetcher fetcher(reactor, options);
    auto [outcomes, seconds] = fetcher.run(Mode::sequential, true);
    ok = allOk(outcomes) && ok;
    sequentialSeconds = seconds;
    std::cerr << "fetch: sequential: " << outcomes.size() << " URLs in " << seconds << " s\n";
  }
  if (mode == Mode::concurrent || mode == Mode::both) {
    // A fresh Agent and pool: the concurrent pass must not reuse the sequential pass's
    // connection, or it would not open one per URL as it does on its own.
    Fetcher fetcher(reactor, options);
    auto [outcomes, seconds] = fetcher.run(Mode::concurrent, mode == Mode::concurrent);
    if (mode == Mode::both) {
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (!outcomes[i].ok) std::cerr << "fetch: concurrent pass: " << describe(outcomes[i], options.urls[i]) << "\n";
      }
    }
    ok = allOk(outcomes) && ok;
    concurrentSeconds = seconds;
    std::cerr << "fetch: concurrent: " << outcomes.size() << " URLs in " << seconds << " s\n";
  }
  if (offline && mode == Mode::both) {
    const double delay = options.delayMs;
    std::cerr << "fetch: each page is answered after " << delay << " ms. One after another, " << options.pages
              << " pages take about " << options.pages << " x " << delay << " ms = " << options.pages * delay
              << " ms (here " << sequentialSeconds * 1000 << " ms); all at once about " << delay << " ms (here "
              << concurrentSeconds * 1000
              << " ms): while one request waits for its answer, the reactor sends the others and reads whichever "
                 "answer comes first.\n";
  }
  if (server) server->stopListening();
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace fetch_example

int main(int argc, char** argv) { return fetch_example::fetchMain(argc, argv); }
