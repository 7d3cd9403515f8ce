#!/usr/bin/python3
"""twisted_fetch: a load client on Python Twisted's Agent, for bench/http_fetch.

N request loops share one persistent HTTPConnectionPool with N connections per host;
each loop sends a GET, reads the body with readBody, and starts the next. The epoll
reactor. Run it with Debian's /usr/bin/python3 (which sees python3-twisted).

usage: twisted_fetch.py --url URL --connections N --duration S [--warmup S]

Prints one line: client=twisted requests=... errors=... rps=... p50_us=... p99_us=...
cpu_us_per_req=... (CPU from /proc/self/stat over the measured window).
"""
import argparse
import os
import sys
import time

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import reactor  # noqa: E402  (after install)
from twisted.web.client import Agent, HTTPConnectionPool, readBody  # noqa: E402


def cpu_micros():
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) * 1e6 / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=0)
    args = parser.parse_args()

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = args.connections
    pool.retryAutomatically = True
    agent = Agent(reactor, pool=pool)
    url = args.url.encode()

    state = {"measuring": args.warmup <= 0, "requests": 0, "errors": 0, "samples": [],
             "start": time.monotonic(), "cpu": cpu_micros(), "active": args.connections}
    end = time.monotonic() + args.warmup + args.duration

    def start_measuring():
        state["measuring"] = True
        state["start"] = time.monotonic()
        state["cpu"] = cpu_micros()

    def loop():
        if time.monotonic() >= end:
            state["active"] -= 1
            if state["active"] == 0:
                reactor.stop()
            return
        started = time.monotonic()

        def done(body):
            if state["measuring"]:
                state["requests"] += 1
                state["samples"].append(time.monotonic() - started)
            loop()

        def failed(failure):
            if state["measuring"]:
                state["errors"] += 1
            loop()

        agent.request(b"GET", url).addCallback(readBody).addCallbacks(done, failed)

    if args.warmup > 0:
        reactor.callLater(args.warmup, start_measuring)
    for _ in range(args.connections):
        reactor.callWhenRunning(loop)
    reactor.run()

    elapsed = time.monotonic() - state["start"]
    cpu = cpu_micros() - state["cpu"]
    samples = sorted(state["samples"])
    n = len(samples)
    p50 = samples[n // 2] * 1e6 if n else 0
    p99 = samples[int(n * 0.99)] * 1e6 if n else 0
    requests = state["requests"]
    print("client=twisted requests=%d errors=%d rps=%.0f p50_us=%.0f p99_us=%.0f cpu_us_per_req=%.2f"
          % (requests, state["errors"], requests / elapsed, p50, p99, cpu / requests if requests else 0))
    sys.stdout.flush()
    return 1 if state["errors"] and not requests else 0


if __name__ == "__main__":
    sys.exit(main())
