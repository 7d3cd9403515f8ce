#!/usr/bin/python3
"""bench/tls: user-space instructions and system calls per operation of the TLS servers
tls_bench times, torsion's against Asio's, counted instead of timed.

    server_cost.py --tls-bench build-bench/bench/tls/tls_bench --certificates DIR
                   [--handshakes N] [--echoes M] [--connections C] [--warm-up W] [--keep DIR]

Each server (`tls_bench serve-torsion`, `serve-asio`, `serve-torsion-plain`: the same
code tls_bench times) runs under `valgrind --tool=callgrind` for the instructions, and
separately under `strace -f -c` for the system calls. `tls_bench drive`, not under either,
does a fixed number of operations against it: W of warm-up in one run, W + N in another,
each with a fresh server; the difference over N is the cost of one operation, without the
server's start-up, warm-up and exit. Callgrind's counts repeat to a fraction of a percent
where CPU time on a shared machine swings by tens of percent; they leave out the kernel's
work, which the system call counts stand for.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

SERVERS = [  # name, tls_bench's serve mode, operations
    ("torsion TLS", "serve-torsion", ["full", "resumed", "echo"]),
    ("Asio ssl", "serve-asio", ["full", "resumed", "echo"]),
    ("torsion plain", "serve-torsion-plain", ["echo-plain"]),
]
OPERATION_NAMES = {"full": "full handshake", "resumed": "resumed handshake", "echo": "1 KiB echo",
                   "echo-plain": "1 KiB echo"}


class Server:
    """A `tls_bench serve-...` process under a tool; `pid` is the server's own process."""

    def __init__(self, command, wrapped):
        # SIGPIPE stays ignored (Python ignores it), as tls_bench run's servers inherit it.
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        restore_signals=False, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"{command}: no 'listening on' line (got {line!r})")
        self.port = int(match.group(1))
        self.pid = self.process.pid
        if wrapped:  # strace runs the server as its child
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as children:
                self.pid = int(children.read().split()[0])

    def stop(self):
        os.kill(self.pid, signal.SIGTERM)
        self.process.wait(timeout=120)


def run_once(args, mode, operation, count, tool, output):
    base = [args.tls_bench, mode, args.certificates]
    if tool == "callgrind":
        command, wrapped = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={output}"] + base, False
    else:
        command, wrapped = ["strace", "-f", "-c", "-o", output] + base, True
    server = Server(command, wrapped)
    try:
        subprocess.run([args.tls_bench, "drive", str(server.port), args.certificates, operation, str(count),
                        str(args.connections)], check=True, timeout=600)
    finally:
        server.stop()
    return instructions(output) if tool == "callgrind" else system_calls(output)


def instructions(path):
    with open(path) as profile:
        for line in profile:
            if line.startswith(("summary:", "totals:")):
                return {"instructions": int(line.split()[1])}
    raise RuntimeError(f"{path}: no totals")


def system_calls(path):
    """strace -c's table: calls per system call name, and the total."""
    calls = {}
    with open(path) as table:
        for line in table:
            fields = line.split()
            if len(fields) >= 5 and re.fullmatch(r"[\d.]+", fields[0]) and fields[3].isdigit():
                calls[fields[-1]] = int(fields[3])
    return calls


def per_operation(args, mode, operation, tool, directory):
    """The tool's counts for N operations less those for none, over N (after W of warm-up)."""
    n = args.handshakes if operation in ("full", "resumed") else args.echoes
    counts = []
    for count in (args.warm_up, args.warm_up + n):
        output = os.path.join(directory, f"{mode}.{operation}.{count}.{tool}")
        counts.append(run_once(args, mode, operation, count, tool, output))
    names = set(counts[0]) | set(counts[1])
    return {name: (counts[1].get(name, 0) - counts[0].get(name, 0)) / n for name in names}


def syscall_text(calls):
    parts = sorted(((value, name) for name, value in calls.items() if name != "total" and value >= 0.05),
                   reverse=True)
    return ", ".join(f"{name} {value:.2f}" for value, name in parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tls-bench", required=True)
    parser.add_argument("--certificates", required=True, help="server.pem, server.key, ca.pem")
    parser.add_argument("--handshakes", type=int, default=200)
    parser.add_argument("--echoes", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4, help="for the echo")
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--keep", help="keep the callgrind and strace outputs here")
    args = parser.parse_args()
    args.tls_bench = os.path.abspath(args.tls_bench)
    args.certificates = os.path.abspath(args.certificates)
    directory = args.keep or tempfile.mkdtemp(prefix="torsion-server-cost-")
    os.makedirs(directory, exist_ok=True)

    print(f"bench/tls/server_cost.py: {args.handshakes} handshakes of each kind one after the other, "
          f"{args.echoes} 1 KiB echoes over {args.connections} connections; {args.warm_up} of warm-up first; "
          "per operation = (run with warm-up + N) - (run with warm-up only), over N")
    results = {}
    for name, mode, operations in SERVERS:
        for operation in operations:
            results[(name, operation)] = {
                "instructions": per_operation(args, mode, operation, "callgrind", directory)["instructions"],
                "calls": per_operation(args, mode, operation, "strace", directory),
            }
            print(f"  {name:14} {OPERATION_NAMES[operation]:18} done", file=sys.stderr)

    print(f"\n{'operation':18} {'torsion instr':>14} {'Asio instr':>12} {'Asio/torsion':>12} "
          f"{'torsion syscalls':>16} {'Asio syscalls':>13}")
    for operation in ("full", "resumed", "echo"):
        ours, asio = results[("torsion TLS", operation)], results[("Asio ssl", operation)]
        print(f"{OPERATION_NAMES[operation]:18} {ours['instructions']:14,.0f} {asio['instructions']:12,.0f} "
              f"{asio['instructions'] / ours['instructions']:11.3f}x {ours['calls']['total']:16.2f} "
              f"{asio['calls']['total']:13.2f}")
    plain, ours = results[("torsion plain", "echo-plain")], results[("torsion TLS", "echo")]
    print(f"\n1 KiB echo, torsion TLS / plain TCP: {ours['instructions']:,.0f} / {plain['instructions']:,.0f} "
          f"instructions = {ours['instructions'] / plain['instructions']:.1f}x; "
          f"system calls {ours['calls']['total']:.2f} / {plain['calls']['total']:.2f}")
    print("\nsystem calls per operation, by name:")
    for (name, operation), result in results.items():
        print(f"  {name:14} {OPERATION_NAMES[operation]:18} {syscall_text(result['calls'])}")
    print(f"\n(user-space instructions of the server process, callgrind; outputs in {directory})")


if __name__ == "__main__":
    main()
