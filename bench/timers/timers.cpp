// timers: schedules N timers, then cancels them all, on torsion's Reactor::callLater
// and, in the same process, on libuv's uv_timer and libevent's evtimer when the build
// found them. (Configured without torsion, from bench/ alone, it times only those two.)
//
// Each timer gets a different delay between 1,000 and 2,000 s (a pseudo-random spread,
// so the timer structures do real work and nothing fires); they are cancelled in the order
// they were scheduled. Every library is used as its users would: torsion's callLater
// takes its entry from the reactor's pool (slabs it maps as it grows, timed); libuv's
// handles live in one array the caller allocated beforehand (not timed); libevent's
// events come from evtimer_new (timed, as part of scheduling). Releasing memory
// afterwards is not timed anywhere.
//
// The second case, "timeouts", is the common life of a timeout: N timers with delays
// spread over 1.0-1.5 s are scheduled, 90% of them are cancelled before they fire, and
// the loop then runs until the other 10% have fired. It reports the CPU time of the
// process per timer for each phase (the loop's idle wait is not CPU time), so a
// structure that makes cancelling cheap but firing dear cannot hide it. Nothing fires
// before the loop runs, so a slow machine cannot turn a cancelled timer into a fired one.
//
// The third case, "timeouts-behind-far" (only when asked for by name), is the same with
// one more timer, 100 s away, scheduled first and seen by one pass of the loop before
// the others: a timer structure that settles its soonest timer when the loop asks for
// it must not make the nearer timeouts after it dear. That timer is cancelled, untimed,
// before the loop runs.
//
// usage: timers [--count N] [--only torsion|libuv|libevent]
//               [--case cancel-all|timeouts|both|timeouts-behind-far]
// Prints one line per implementation and case:
//   timers impl=NAME count=N schedule_ns_per_op=... cancel_ns_per_op=... total_ms=...
//   timers impl=NAME case=timeouts|timeouts-behind-far count=N schedule_ns_per_op=...
//          cancel_ns_per_op=... fire_ns_per_op=... total_ms=... fired=...
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
#include <ctime>
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

// ---- the timeouts case ------------------------------------------------------------------

// CPU time of this process in ns: the loop's waits for the next timer are not counted.
double cpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Timer i of the timeouts case: 1,000-1,500 ms, a pseudo-random spread.
std::uint64_t timeoutMs(std::size_t i) { return 1'000u + (static_cast<std::uint64_t>(i) * 2'654'435'761u) % 500u; }
// 9 in 10 are cancelled; the rest fire.
bool cancelled(std::size_t i) { return i % 10 != 0; }

struct TimeoutTiming {
  double scheduleNs = 0;
  double cancelNs = 0;
  double fireNs = 0;
  std::size_t fired = 0;
  std::size_t expected = 0;
};

std::size_t expectedFirings(std::size_t count) { return (count + 9) / 10; }

// The timeouts-behind-far case's first timer: far beyond every timeout.
constexpr double kFarSeconds = 100;

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

#ifdef TORSION_BENCH_HAVE_TORSION
TimeoutTiming timeoutsTorsion(std::size_t count, bool behindFar) {
  torsion::Reactor reactor;
  std::vector<torsion::DelayedCall> calls;
  calls.reserve(count);
  TimeoutTiming t;
  t.expected = expectedFirings(count);
  torsion::DelayedCall far;
  if (behindFar) {
    far = reactor.callLater(kFarSeconds, [] {});
    reactor.iterate(0);
  }
  double start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    calls.push_back(reactor.callLater(static_cast<double>(timeoutMs(i)) / 1000.0, [&t] { ++t.fired; }));
  }
  t.scheduleNs = cpuNs() - start;
  start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    if (cancelled(i)) calls[i].cancel();
  }
  t.cancelNs = cpuNs() - start;
  if (behindFar) far.cancel();
  start = cpuNs();
  while (t.fired < t.expected) reactor.iterate(1.0);
  t.fireNs = cpuNs() - start;
  return t;
}
#endif

#ifdef TORSION_BENCH_HAVE_UV
void onUvTimer(uv_timer_t*) {}

void onUvTimeout(uv_timer_t* timer) { ++*static_cast<std::size_t*>(timer->data); }

TimeoutTiming timeoutsLibuv(std::size_t count, bool behindFar) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<uv_timer_t> timers(count);
  TimeoutTiming t;
  t.expected = expectedFirings(count);
  uv_timer_t far;
  uv_timer_init(&loop, &far);
  if (behindFar) {
    uv_timer_start(&far, onUvTimer, static_cast<std::uint64_t>(kFarSeconds * 1000), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  double start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    uv_timer_init(&loop, &timers[i]);
    timers[i].data = &t.fired;
    uv_timer_start(&timers[i], onUvTimeout, timeoutMs(i), 0);
  }
  t.scheduleNs = cpuNs() - start;
  start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    if (cancelled(i)) uv_timer_stop(&timers[i]);
  }
  t.cancelNs = cpuNs() - start;
  uv_timer_stop(&far);
  start = cpuNs();
  uv_run(&loop, UV_RUN_DEFAULT);  // returns when no timer is active: all have fired
  t.fireNs = cpuNs() - start;
  uv_close(reinterpret_cast<uv_handle_t*>(&far), nullptr);
  for (auto& timer : timers) uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return t;
}

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

#ifdef TORSION_BENCH_HAVE_EVENT
void onEvTimeout(evutil_socket_t, short, void* fired) { ++*static_cast<std::size_t*>(fired); }

TimeoutTiming timeoutsLibevent(std::size_t count, bool behindFar) {
  event_base* base = event_base_new();
  std::vector<event*> events(count);
  TimeoutTiming t;
  t.expected = expectedFirings(count);
  event* far = evtimer_new(base, onEvTimer, nullptr);
  if (behindFar) {
    timeval tv{static_cast<time_t>(kFarSeconds), 0};
    evtimer_add(far, &tv);
    event_base_loop(base, EVLOOP_NONBLOCK);
  }
  double start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    std::uint64_t ms = timeoutMs(i);
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
    events[i] = evtimer_new(base, onEvTimeout, &t.fired);
    evtimer_add(events[i], &tv);
  }
  t.scheduleNs = cpuNs() - start;
  start = cpuNs();
  for (std::size_t i = 0; i < count; i++) {
    if (cancelled(i)) evtimer_del(events[i]);
  }
  t.cancelNs = cpuNs() - start;
  evtimer_del(far);
  start = cpuNs();
  event_base_dispatch(base);  // returns when no event is pending: all have fired
  t.fireNs = cpuNs() - start;
  event_free(far);
  for (auto* ev : events) event_free(ev);
  event_base_free(base);
  return t;
}
#endif

void reportTimeouts(const char* name, const char* which, std::size_t count, const TimeoutTiming& t) {
  const double n = static_cast<double>(count);
  std::printf(
      "timers impl=%s case=%s count=%zu schedule_ns_per_op=%.1f cancel_ns_per_op=%.1f fire_ns_per_op=%.1f "
      "total_ms=%.1f fired=%zu\n",
      name, which, count, t.scheduleNs / n, t.cancelNs / (n - static_cast<double>(t.expected)),
      t.fireNs / static_cast<double>(t.expected), (t.scheduleNs + t.cancelNs + t.fireNs) / 1e6, t.fired);
  if (t.fired != t.expected) std::fprintf(stderr, "timers: %s fired %zu of %zu\n", name, t.fired, t.expected);
  std::fflush(stdout);
}

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
  std::string which = "both";
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
      which = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: timers [--count N] [--only torsion|libuv|libevent] "
                   "[--case cancel-all|timeouts|both|timeouts-behind-far]\n");
      return 2;
    }
  }
  if (count == 0) count = 1;
  const bool cancelAll = which == "both" || which == "cancel-all";
  const bool timeouts = which == "both" || which == "timeouts";
  const bool behindFar = which == "timeouts-behind-far";
  if (!cancelAll && !timeouts && !behindFar) {
    std::fprintf(stderr, "timers: unknown case %s\n", which.c_str());
    return 2;
  }
#ifdef TORSION_BENCH_HAVE_TORSION
  if (only.empty() || only == "torsion") {
    if (cancelAll) report("torsion", count, runTorsion(count));
    if (timeouts) reportTimeouts("torsion", "timeouts", count, timeoutsTorsion(count, false));
    if (behindFar) reportTimeouts("torsion", "timeouts-behind-far", count, timeoutsTorsion(count, true));
  }
#else
  std::fprintf(stderr, "timers: built without torsion (bench/ configured alone)\n");
#endif
#ifdef TORSION_BENCH_HAVE_UV
  if (only.empty() || only == "libuv") {
    if (cancelAll) report("libuv", count, runLibuv(count));
    if (timeouts) reportTimeouts("libuv", "timeouts", count, timeoutsLibuv(count, false));
    if (behindFar) reportTimeouts("libuv", "timeouts-behind-far", count, timeoutsLibuv(count, true));
  }
#endif
#ifdef TORSION_BENCH_HAVE_EVENT
  if (only.empty() || only == "libevent") {
    if (cancelAll) report("libevent", count, runLibevent(count));
    if (timeouts) reportTimeouts("libevent", "timeouts", count, timeoutsLibevent(count, false));
    if (behindFar) reportTimeouts("libevent", "timeouts-behind-far", count, timeoutsLibevent(count, true));
  }
#endif
  return 0;
}
