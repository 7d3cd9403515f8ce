// timers: schedules N timers, then cancels them all, on torsion's Reactor::callLater
// and, in the same process, on libuv's uv_timer and libevent's evtimer when the build
// found them. (Configured without torsion, from bench/ alone, it times only those two.)
//
// Each timer gets a different delay between 1,000 and 2,000 s (a pseudo-random spread,
// so the timer heaps do real work and nothing fires); they are cancelled in the order
// they were scheduled. Every library is used as its users would: torsion's callLater
// allocates its entry itself; libuv's handles live in one array the caller allocated
// beforehand (not timed); libevent's events come from evtimer_new (timed, as part of
// scheduling). Releasing memory afterwards is not timed anywhere.
//
// usage: timers [--count N] [--only torsion|libuv|libevent]
// Prints one line per implementation:
//   timers impl=NAME count=N schedule_ns_per_op=... cancel_ns_per_op=... total_ms=...
#ifdef TORSION_BENCH_HAVE_TORSION
#include <torsion/reactor.hpp>
#endif
#ifdef TORSION_BENCH_HAVE_UV
#include <uv.h>
#endif
#ifdef TORSION_BENCH_HAVE_EVENT
#include <event2/event.h>
#endif

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double scheduleNs = 0;
  double cancelNs = 0;
};

// The delay of timer i in milliseconds: 1,000,000 + a spread over 1,000,000 ms.
std::uint64_t delayMs(std::size_t i) {
  return 1'000'000u + (static_cast<std::uint64_t>(i) * 2'654'435'761u) % 1'000'000u;
}

double nsSince(Clock::time_point start) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

#ifdef TORSION_BENCH_HAVE_TORSION
Timing runTorsion(std::size_t count) {
  torsion::Reactor reactor;
  std::vector<torsion::DelayedCall> calls;
  calls.reserve(count);
  Timing t;
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; i++) {
    calls.push_back(reactor.callLater(static_cast<double>(delayMs(i)) / 1000.0, [] {}));
  }
  t.scheduleNs = nsSince(start);
  start = Clock::now();
  for (auto& call : calls) call.cancel();
  t.cancelNs = nsSince(start);
  return t;
}
#endif

#ifdef TORSION_BENCH_HAVE_UV
void onUvTimer(uv_timer_t*) {}

Timing runLibuv(std::size_t count) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<uv_timer_t> timers(count);
  Timing t;
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; i++) {
    uv_timer_init(&loop, &timers[i]);
    uv_timer_start(&timers[i], onUvTimer, delayMs(i), 0);
  }
  t.scheduleNs = nsSince(start);
  start = Clock::now();
  for (auto& timer : timers) uv_timer_stop(&timer);
  t.cancelNs = nsSince(start);
  for (auto& timer : timers) uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return t;
}
#endif

#ifdef TORSION_BENCH_HAVE_EVENT
void onEvTimer(evutil_socket_t, short, void*) {}

Timing runLibevent(std::size_t count) {
  event_base* base = event_base_new();
  std::vector<event*> events(count);
  Timing t;
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; i++) {
    std::uint64_t ms = delayMs(i);
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    events[i] = evtimer_new(base, onEvTimer, nullptr);
    evtimer_add(events[i], &tv);
  }
  t.scheduleNs = nsSince(start);
  start = Clock::now();
  for (auto* ev : events) evtimer_del(ev);
  t.cancelNs = nsSince(start);
  for (auto* ev : events) event_free(ev);
  event_base_free(base);
  return t;
}
#endif

void report(const char* name, std::size_t count, const Timing& t) {
  const double n = static_cast<double>(count);
  std::printf("timers impl=%s count=%zu schedule_ns_per_op=%.1f cancel_ns_per_op=%.1f total_ms=%.1f\n", name, count,
              t.scheduleNs / n, t.cancelNs / n, (t.scheduleNs + t.cancelNs) / 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 1'000'000;
  std::string only;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: timers [--count N] [--only torsion|libuv|libevent]\n");
      return 2;
    }
  }
  if (count == 0) count = 1;
#ifdef TORSION_BENCH_HAVE_TORSION
  if (only.empty() || only == "torsion") report("torsion", count, runTorsion(count));
#else
  std::fprintf(stderr, "timers: built without torsion (bench/ configured alone)\n");
#endif
#ifdef TORSION_BENCH_HAVE_UV
  if (only.empty() || only == "libuv") report("libuv", count, runLibuv(count));
#endif
#ifdef TORSION_BENCH_HAVE_EVENT
  if (only.empty() || only == "libevent") report("libevent", count, runLibevent(count));
#endif
  return 0;
}
