#!/usr/bin/env python3
"""Turns the raw measurements of bench/run into tables of medians and ratios.

Input: a raw file of tab-separated lines `scenario server round key=value ...` written
by bench/run (one line per measurement), and a meta file of `key: value` lines (date,
machine, command). Output: Markdown on stdout and in --out-md, and the idle-scaling
curves as a gnuplot data file (--out-dat). Standard library only.
"""
import argparse
import statistics
import sys
from collections import defaultdict

PEERS = ["asio", "asio-uring", "libuv", "libevent", "twisted"]  # the "best peer" is the best of these
REFERENCE = "epoll"  # raw epoll in C: the near-limit reference
LABELS = {
    "epoll": "raw epoll (C)",
    "uring": "raw io_uring (C)",
    "asio-uring": "Asio (io_uring)",
    "asio": "Asio",
    "libuv": "libuv",
    "libevent": "libevent",
    "twisted": "Twisted",
}
IDLE_COUNTS = [0, 1000, 10000]

HIGHER, LOWER = "higher", "lower"


def label(server):
    return LABELS.get(server, server)


def order_key(server):
    """torsion's backends first, then raw epoll and raw io_uring, then the library peers."""
    backends = ["torsion/epoll", "torsion/poll", "torsion/select", "torsion/asio", "torsion/kqueue"]
    fixed = ["epoll", "uring", "asio", "asio-uring", "libuv", "libevent", "twisted"]
    if server in backends:
        return (0, backends.index(server), server)
    if server in fixed:
        return (2, fixed.index(server), server)
    return (1, 0, server)


def load(path):
    """{(scenario, server): {metric: [values...]}}, plus the errors seen."""
    data = defaultdict(lambda: defaultdict(list))
    errors = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            scenario, server, _round = parts[:3]
            kv = {}
            for token in " ".join(parts[3:]).split():
                if "=" in token:
                    k, v = token.split("=", 1)
                    kv[k] = v
            if "error" in kv:
                errors.append(f"{scenario} {server} round {_round}: {kv['error'].replace('_', ' ')}")
                continue
            if kv.get("errors", "0") not in ("0", ""):
                errors.append(f"{scenario} {server} round {_round}: {kv['errors']} connection errors "
                              "(measurement kept)")
            if "rss_before_kb" in kv and "rss_after_kb" in kv and "idle" in kv:
                n = float(kv["idle"])
                if n > 0:
                    kv["bytes_per_conn"] = str((float(kv["rss_after_kb"]) - float(kv["rss_before_kb"])) * 1024 / n)
            for k, v in kv.items():
                try:
                    data[(scenario, server)][k].append(float(v))
                except ValueError:
                    pass
    return data, errors


class Table:
    def __init__(self, data):
        self.data = data

    def median(self, scenario, server, metric):
        values = self.data.get((scenario, server), {}).get(metric)
        return statistics.median(values) if values else None

    def spread(self, scenario, server, metric):
        """(max - min) / median of the rounds, in percent."""
        values = self.data.get((scenario, server), {}).get(metric)
        if not values or len(values) < 2:
            return None
        m = statistics.median(values)
        return 100.0 * (max(values) - min(values)) / m if m else None

    def rounds(self, scenario, server, metric):
        return len(self.data.get((scenario, server), {}).get(metric, []))

    def servers(self, scenario):
        return sorted({s for (sc, s) in self.data if sc == scenario}, key=order_key)

    def best_peer(self, scenario, metric, direction):
        """(server, value) of the best library peer for this metric."""
        found = [(s, self.median(scenario, s, metric)) for s in PEERS]
        found = [(s, v) for s, v in found if v is not None and v > 0]
        if not found:
            return None, None
        pick = max if direction == HIGHER else min
        return pick(found, key=lambda sv: sv[1])


def fmt(value, digits=None):
    if value is None:
        return "n/a"
    if digits is None:
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def pool_table(t):
    """(i): messages/s and server CPU per message for 1 and N reactors, and the scaling."""
    servers = sorted(t.servers("i"), key=lambda s: int(s.rsplit(":", 1)[-1]))
    if not servers:
        return ["_not measured_", ""]
    lines = ["| reactors | msgs/s ↑ | server CPU µs/msg ↓ | p50 µs ↓ | scaling ÷ 1 reactor |", "|---|---|---|---|---|"]
    one = t.median("i", servers[0], "msgs_per_s")
    for s in servers:
        v = t.median("i", s, "msgs_per_s")
        lines.append(f"| {s.rsplit(':', 1)[-1]} | {fmt(v)} | {fmt(t.median('i', s, 'server_cpu_us_per_msg'))} | "
                     f"{fmt(t.median('i', s, 'p50_us'))} | {ratio(v, one)} |")
    lines += ["", "100 connections × 1 message of 64 B in flight; N = the machine's CPU count. Neither the server "
              "nor the load generator is pinned: on a machine with few cores the load generator (one thread) "
              "competes with the reactors for them, so the scaling shown is a floor.", ""]
    return lines


def metric_table(t, scenario, columns):
    """columns: [(metric, heading, direction, with_ratios)]. Returns Markdown lines."""
    servers = t.servers(scenario)
    if not servers:
        return ["_not measured_", ""]
    head = ["server"]
    for metric, heading, direction, with_ratios in columns:
        arrow = "↑" if direction == HIGHER else "↓"
        head.append(f"{heading} {arrow}")
        if with_ratios:
            head += ["÷ raw epoll", "÷ best peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in servers:
        row = [label(s)]
        for metric, _heading, direction, with_ratios in columns:
            v = t.median(scenario, s, metric)
            cell = fmt(v)
            sp = t.spread(scenario, s, metric)
            if with_ratios and sp is not None and sp >= 10:
                cell += f" (±{sp / 2:.0f}%)"
            row.append(cell)
            if with_ratios:
                row.append(ratio(v, t.median(scenario, REFERENCE, metric)))
                bp, bv = t.best_peer(scenario, metric, direction)
                row.append(ratio(v, bv) + (f" ({label(bp)})" if bp and s not in PEERS else ""))
        lines.append("| " + " | ".join(row) + " |")
    n = max((t.rounds(scenario, s, columns[0][0]) for s in servers), default=0)
    lines.append("")
    lines.append(f"Median of {n} rounds. ↑ higher is better, ↓ lower is better; ratios are this server's median "
                 "divided by raw epoll's and by the best library peer's (Asio, libuv, libevent, Twisted); "
                 "(±N%) marks a spread of the rounds of 10% or more.")
    lines.append("")
    return lines


def idle_table(t):
    servers = sorted({s for (sc, s) in t.data if sc.startswith("d")}, key=order_key)
    if not servers:
        return ["_not measured_", ""]
    head = ["server"] + [f"p50 µs, {n:,} idle" for n in IDLE_COUNTS] + ["10,000 ÷ 0", "p99 µs, 10,000 idle"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in servers:
        vals = [t.median(f"d{n}", s, "p50_us") for n in IDLE_COUNTS]
        row = [label(s)] + [fmt(v) for v in vals]
        row.append(ratio(vals[-1], vals[0]))
        row.append(fmt(t.median(f"d{IDLE_COUNTS[-1]}", s, "p99_us")))
        lines.append("| " + " | ".join(row) + " |")
    n = max((t.rounds("d0", s, "p50_us") for s in servers), default=0)
    lines += ["", f"Median of {n} round{'s' if n != 1 else ''}. Round trip of one active connection (1 message of "
              "64 bytes in flight) while the others sit idle; n/a where the backend cannot hold that many (select "
              "stops at FD_SETSIZE = 1024).", ""]
    return lines


def memory_table(t):
    servers = t.servers("e")
    if not servers:
        return ["_not measured_", ""]
    lines = ["| server | bytes per idle connection ↓ | ÷ raw epoll | ÷ best peer | RSS before (KiB) | RSS with "
             "10,000 idle (KiB) |", "|---|---|---|---|---|---|"]
    ref = t.median("e", REFERENCE, "bytes_per_conn")
    bp, bv = t.best_peer("e", "bytes_per_conn", LOWER)
    for s in servers:
        v = t.median("e", s, "bytes_per_conn")
        lines.append(f"| {label(s)} | {fmt(v, 0) if v is not None else 'n/a'} | {ratio(v, ref)} | "
                     f"{ratio(v, bv)}{f' ({label(bp)})' if bp and s not in PEERS else ''} | "
                     f"{fmt(t.median('e', s, 'rss_before_kb'), 0)} | {fmt(t.median('e', s, 'rss_after_kb'), 0)} |")
    n = max((t.rounds("e", s, "bytes_per_conn") for s in servers), default=0)
    lines += ["", f"Median of {n} round{'s' if n != 1 else ''}. (VmRSS with 10,000 idle connections − VmRSS before "
              "any) ÷ 10,000: the server's user-space memory per connection, protocol object included. Kernel "
              "socket buffers are not in RSS.", ""]
    return lines


def timers_table(t):
    impls = t.servers("g")
    if not impls:
        return ["_not measured (bench/timers not built)_", ""]
    lines = ["| implementation | schedule ns/op ↓ | cancel ns/op ↓ | total ms for 1,000,000 ↓ | total ÷ torsion |",
             "|---|---|---|---|---|"]
    base = t.median("g", "torsion", "total_ms")
    for s in impls:
        lines.append(f"| {s} | {fmt(t.median('g', s, 'schedule_ns_per_op'))} | "
                     f"{fmt(t.median('g', s, 'cancel_ns_per_op'))} | {fmt(t.median('g', s, 'total_ms'))} | "
                     f"{ratio(t.median('g', s, 'total_ms'), base)} |")
    lines += ["", "1,000,000 timers with different delays (1,000-2,000 s) scheduled, then all cancelled in the "
              "order they were scheduled; median of the rounds.", ""]
    impls = t.servers("g90")
    if not impls:
        return lines
    lines += ["### Timeouts: 90% cancelled before firing, the rest fire", "",
              "| implementation | schedule ns/op ↓ | cancel ns/op ↓ | fire ns/op ↓ | total CPU ms ↓ | total ÷ torsion |",
              "|---|---|---|---|---|---|"]
    base = t.median("g90", "torsion", "total_ms")
    for s in impls:
        lines.append(f"| {s} | {fmt(t.median('g90', s, 'schedule_ns_per_op'))} | "
                     f"{fmt(t.median('g90', s, 'cancel_ns_per_op'))} | {fmt(t.median('g90', s, 'fire_ns_per_op'))} | "
                     f"{fmt(t.median('g90', s, 'total_ms'))} | {ratio(t.median('g90', s, 'total_ms'), base)} |")
    lines += ["", "1,000,000 timers with delays of 1.0-1.5 s scheduled, 9 in 10 cancelled, then the loop runs until "
              "the other 100,000 have fired. Process CPU time per timer of each phase (the loop's idle waits are "
              "not counted); median of the rounds.", ""]
    return lines


def check(ok, text):
    return f"- {'PASS' if ok else 'FAIL'}: {text}"


def targets(t, torsion="torsion/epoll"):
    if not t.servers("a") or torsion not in t.servers("a"):
        return [f"_No {torsion} rows yet (examples/echo_server not built): targets not checked._", ""]
    out = []
    med = t.median
    for sc in ("b", "c"):
        v, r = med(sc, torsion, "msgs_per_s"), med(sc, REFERENCE, "msgs_per_s")
        if v and r:
            out.append(check(v >= 0.95 * r, f"({sc}) messages/s {v:,.0f} = {v / r:.3f}x raw epoll (target >= 0.95x)"))
    for peer in ("libuv", "asio"):
        v, r = med("a", torsion, "server_cpu_us_per_msg"), med("a", peer, "server_cpu_us_per_msg")
        if v and r:
            out.append(check(v <= r, f"(a) server CPU per message {v:.2f} µs vs {label(peer)} {r:.2f} µs "
                                     f"({r / v:.3f}x as efficient; target >= 1.0x)"))
        for sc in ("b", "c"):
            v, r = med(sc, torsion, "msgs_per_s"), med(sc, peer, "msgs_per_s")
            if v and r:
                out.append(check(v >= r, f"({sc}) messages/s {v / r:.3f}x {label(peer)} (target >= 1.0x)"))
    for sc in ("a", "b", "c"):
        v, r = med(sc, torsion, "p99_us"), med(sc, "libuv", "p99_us")
        if v and r:
            out.append(check(v <= 1.1 * r, f"({sc}) p99 {v:.1f} µs = {v / r:.3f}x libuv's (target <= 1.1x)"))
    v, r = med("e", torsion, "bytes_per_conn"), med("e", "libuv", "bytes_per_conn")
    if v is not None and r is not None:
        out.append(check(v <= r, f"(e) memory per idle connection {v:.0f} B vs libuv {r:.0f} B (target <= libuv)"))
    v0, v1 = med("d0", torsion, "p50_us"), med("d10000", torsion, "p50_us")
    if v0 and v1:
        out.append(check(v1 <= 1.1 * v0, f"(d) p50 with 10,000 idle {v1:.1f} µs = {v1 / v0:.3f}x with none "
                                         f"({v0:.1f} µs) (target <= 1.1x)"))
    return out + [""]


def write_dat(t, path):
    servers = sorted({s for (sc, s) in t.data if sc.startswith("d")}, key=order_key)
    with open(path, "w") as f:
        f.write("# idle connections, then p50 round trip in µs per server (NaN = not measured)\n")
        f.write("position idle " + " ".join(f'"{label(s)}"' for s in servers) + "\n")
        for i, n in enumerate(IDLE_COUNTS):
            vals = [t.median(f"d{n}", s, "p50_us") for s in servers]
            f.write(f'{i} "{n:,}" ' + " ".join("NaN" if v is None else f"{v:.2f}" for v in vals) + "\n")
    return len(servers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--deferred", help="output of bench/deferred, included as it is")
    ap.add_argument("--out-md")
    ap.add_argument("--out-dat")
    ap.add_argument("--plot", help="path of the plot, relative to the Markdown file, to link")
    args = ap.parse_args()

    data, errors = load(args.raw)
    t = Table(data)
    meta = {}
    with open(args.meta) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                meta[k.strip()] = v.strip()

    md = ["# torsion benchmarks: latest run", ""]
    md.append(f"- Date: {meta.get('date', '?')}")
    md.append(f"- Command: `{meta.get('command', '?')}` ({meta.get('mode', '?')} mode, {meta.get('rounds', '?')} "
              f"rounds, {meta.get('warmup', '?')} s warm-up + {meta.get('duration', '?')} s per measurement)")
    md.append(f"- Machine: {meta.get('machine', '?')}")
    md.append(f"- Kernel: {meta.get('kernel', '?')}")
    md.append(f"- Load: {meta.get('load', '?')}")
    md.append(f"- Peers: {meta.get('versions', '?')}")
    md.append(f"- torsion: {meta.get('torsion', '?')}")
    md.append("- Method: loopback TCP; each server pinned to CPU 0 (`taskset -c 0`), the load generator "
              "(bench/loadgen, its own epoll loop in C) to CPU 1; a fresh server process per measurement; "
              "servers alternate within each round, in a rotated order each round.")
    md.append("")

    md += ["## Targets (torsion/epoll)", ""] + targets(t)

    md += ["## (a) Latency-bound: 1 connection, 1 message of 64 B in flight", ""]
    md += metric_table(t, "a", [("msgs_per_s", "msgs/s", HIGHER, False),
                                ("server_cpu_us_per_msg", "server CPU µs/msg", LOWER, True),
                                ("p50_us", "p50 µs", LOWER, False), ("p99_us", "p99 µs", LOWER, True),
                                ("p999_us", "p99.9 µs", LOWER, False)])
    md += ["The round trip bounds the rate here, so compare the server's CPU time per message "
           "(its threads' run time from /proc/PID/task/*/schedstat over the measured window).", ""]
    md += ["## (b) 100 connections, 1 message of 64 B in flight each", ""]
    md += metric_table(t, "b", [("msgs_per_s", "msgs/s", HIGHER, True), ("p50_us", "p50 µs", LOWER, False),
                                ("p99_us", "p99 µs", LOWER, True),
                                ("server_cpu_us_per_msg", "server CPU µs/msg", LOWER, False)])
    md += ["## (c) Throughput: 100 connections, 10 messages of 1 KiB in flight each", ""]
    md += metric_table(t, "c", [("msgs_per_s", "msgs/s", HIGHER, True), ("mb_per_s", "MB/s each way", HIGHER, False),
                                ("p50_us", "p50 µs", LOWER, False), ("p99_us", "p99 µs", LOWER, True),
                                ("server_cpu_us_per_msg", "server CPU µs/msg", LOWER, False)])
    md += ["## (d) Idle scaling: latency of one active connection among idle ones", ""]
    if args.plot:
        md += [f"![p50 round trip against idle connections]({args.plot})", ""]
    md += idle_table(t)
    md += ["## (e) Server memory per idle connection, at 10,000 connections", ""] + memory_table(t)
    md += ["## (f) Connection churn: connect, echo 64 B, close (half with a reset)", ""]
    md += metric_table(t, "f", [("server_cpu_us_per_conn", "server CPU µs/conn", LOWER, True),
                                ("conns_per_s", "connections/s", HIGHER, True),
                                ("p50_us", "cycle p50 µs", LOWER, False), ("p99_us", "cycle p99 µs", LOWER, False)])
    md += ["10 client workers, each repeating connect / send 64 B / read them back / close; every second "
           "close is a reset (SO_LINGER 0). The headline is the server's CPU time per connection: accept, "
           "read, echo, close and the bookkeeping around them.", ""]
    md += ["## (g) Timers: 1,000,000 calls scheduled and cancelled", ""] + timers_table(t)
    md += ["## (h) Deferred", ""]
    if args.deferred:
        try:
            with open(args.deferred) as f:
                text = f.read().strip()
        except OSError:
            text = ""
        md += (["```", text, "```", ""] if text else ["_bench/deferred produced no output_", ""])
    else:
        md += ["_bench/deferred is not built yet._", ""]
    md += ["## (i) One reactor against one per core (torsion/epoll, ReactorPool)", ""] + pool_table(t)
    if errors:
        md += ["## Measurements that failed or saw errors", ""] + [f"- {e}" for e in errors] + [""]

    text = "\n".join(md)
    print(text)
    if args.out_md:
        with open(args.out_md, "w") as f:
            f.write(text)
    if args.out_dat:
        write_dat(t, args.out_dat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
