// What one Deferred callback costs, beside a plain std::function call.
//
// Cases, each timed with steady_clock over many callbacks, best of several runs:
//   std::function      the baseline: one call through std::function<long(long)>
//   pre-fired          addCallback on a Deferred that has fired: each callback is added
//                      and runs at once (the cost of adding is part of the figure)
//   fired after build  addCallback on an unfired Deferred, then callback() once:
//                      reported as build, fire, and the two together
// both for chains of 10 callbacks (what programs build) and for one long chain.
//   Deferred per value succeed(v).addCallback(f): a whole Deferred made, fired, used
//   co_await           a coroutine awaiting an already-fired Deferred
//
// Usage: deferred [callbacks-per-run]   (TORSION_BENCH_QUICK=1 runs fewer)
#include <torsion/deferred.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile long sink = 0;  // results land here, so no loop is optimised away

double nanosecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

// Best of `runs` measurements of `measure(n)`, which returns total nanoseconds.
template <class Measure>
double best(int runs, long n, Measure&& measure) {
  double least = 1e300;
  for (int i = 0; i < runs; ++i) least = std::min(least, measure(n));
  return least / static_cast<double>(n);
}

double plainFunction(long n) {
  std::function<long(long)> f = [](long x) { return x + 1; };
  long x = 0;
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) x = f(x);
  double ns = nanosecondsSince(start);
  sink = x;
  return ns;
}

// `n` callbacks in chains of `length` (the last chain may be shorter).
double preFired(long n, long length) {
  double ns = 0;
  for (long done = 0; done < n; done += length) {
    const long count = std::min(length, n - done);
    torsion::Deferred<long> d = torsion::succeed(0L);
    auto start = Clock::now();
    for (long i = 0; i < count; ++i) d.addCallback([](long x) { return x + 1; });
    ns += nanosecondsSince(start);
    d.addCallback([](long x) { sink = x; });
  }
  return ns;
}

struct BuildAndFire {
  double build = 0;
  double fire = 0;
};

BuildAndFire firedAfterBuilding(long n, long length) {
  BuildAndFire times;
  for (long done = 0; done < n; done += length) {
    const long count = std::min(length, n - done);
    torsion::Deferred<long> d;
    auto start = Clock::now();
    for (long i = 0; i < count; ++i) d.addCallback([](long x) { return x + 1; });
    times.build += nanosecondsSince(start);
    d.addCallback([](long x) { sink = x; });
    start = Clock::now();
    d.callback(0);
    times.fire += nanosecondsSince(start);
  }
  return times;
}

double deferredPerValue(long n) {
  long total = 0;
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    torsion::succeed(i).addCallback([&total](long x) { total += x; });
  }
  double ns = nanosecondsSince(start);
  sink = total;
  return ns;
}

torsion::Deferred<long> awaitMany(long n) {
  long total = 0;
  for (long i = 0; i < n; ++i) total += co_await torsion::succeed(i);
  co_return total;
}

double coAwait(long n) {
  auto start = Clock::now();
  torsion::Deferred<long> d = awaitMany(n);
  double ns = nanosecondsSince(start);
  d.addCallback([](long x) { sink = x; });
  return ns;
}

constexpr long kShortChain = 10;

long callbacksFromArguments(int argc, char** argv, bool quick) {
  if (argc > 1) {
    long n = std::strtol(argv[1], nullptr, 10);
    if (n > 0) return n;
  }
  return quick ? 100'000 : 1'000'000;
}

}  // namespace

int main(int argc, char** argv) {
  const char* quickEnv = std::getenv("TORSION_BENCH_QUICK");
  const bool quick = quickEnv != nullptr && std::string(quickEnv) == "1";
  const long n = callbacksFromArguments(argc, argv, quick);
  const int runs = quick ? 3 : 7;

  const double baseline = best(runs, n, plainFunction);
  const auto perCallback = [n](double total) { return total / static_cast<double>(n); };

  fmt::print("Deferred callback cost: {} callbacks per measurement, best of {} runs\n", n, runs);
  fmt::print("{:<56} {:>12} {:>16}\n", "case", "ns/callback", "x std::function");
  const auto row = [baseline](const std::string& name, double ns) {
    fmt::print("{:<56} {:>12.1f} {:>16.1f}\n", name, ns, ns / baseline);
  };
  row("std::function call (baseline)", baseline);

  // Short chains are what programs build; one long chain shows the cost does not grow.
  for (long length : {kShortChain, n}) {
    const std::string shape = length == n ? fmt::format("one chain of {}", n) : fmt::format("chains of {}", length);
    row("pre-fired, " + shape + ": addCallback runs at once",
        best(runs, n, [length](long count) { return preFired(count, length); }));
    BuildAndFire least{1e300, 1e300};
    double leastTotal = 1e300;
    for (int i = 0; i < runs; ++i) {
      BuildAndFire t = firedAfterBuilding(n, length);
      least.build = std::min(least.build, t.build);
      least.fire = std::min(least.fire, t.fire);
      leastTotal = std::min(leastTotal, t.build + t.fire);
    }
    row("fired after building, " + shape + ": build", perCallback(least.build));
    row("fired after building, " + shape + ": fire", perCallback(least.fire));
    row("fired after building, " + shape + ": build + fire", perCallback(leastTotal));
  }
  row("new Deferred per value: succeed + addCallback", best(runs, n, deferredPerValue));
  row("co_await of a fired Deferred", best(runs, n, coAwait));
  return 0;
}
