#!/usr/bin/env python3
"""Checks that an echo peer of bench/ echoes exactly: starts SERVER --port 0, reads its
"listening on 127.0.0.1:PORT" line, then over real sockets: 64 B and 1 MiB payloads, two
connections at once with interleaved writes, and one connection closed with data the
server has not echoed yet (after which the server must still serve a new connection).

    check_echo.py SERVER [ARGS...]

Exit status: 0 passed, 1 failed, 77 skipped (the server exited with 77: the mechanism it
measures, io_uring for uring_echo, cannot be used on this machine). Standard library only;
every wait has a deadline.
"""
import re
import socket
import subprocess
import sys
import threading

DEADLINE_S = 20
SKIP = 77


def start(argv):
    proc = subprocess.Popen(argv + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the server prints it, flushed, once it listens
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        code = proc.wait(timeout=DEADLINE_S)
        err = proc.stderr.read().strip()
        if code == SKIP:
            print(f"SKIP: {err}")
            sys.exit(SKIP)
        sys.exit(f"FAIL: the server did not start (exit {code}): {err}")
    return proc, int(m.group(1))


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_exactly(s, n):
    got = bytearray()
    while len(got) < n:
        chunk = s.recv(min(1 << 20, n - len(got)))
        if not chunk:
            raise AssertionError(f"the server closed after {len(got)} of {n} bytes")
        got += chunk
    return bytes(got)


def payload(n, seed):
    return bytes((i * 131 + seed) & 0xFF for i in range(256)) * (n // 256) + bytes(n % 256)


def echo(s, data, step):
    """Writes data in pieces of step bytes while reading what comes back (a 1 MiB write
    would otherwise fill both directions' buffers and block)."""
    got = bytearray()
    for off in range(0, len(data), step):
        s.sendall(data[off:off + step])
        got += read_exactly(s, min(step, len(data) - off))
    return bytes(got)


def check(name, got, want):
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        raise AssertionError(f"{name}: {len(got)} bytes back for {len(want)}, first difference at {first}")
    print(f"ok: {name}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    proc, port = start(sys.argv[1:])
    try:
        a = connect(port)
        small = payload(64, 1)
        check("64 B round trips", b"".join(echo(a, small, 64) for _ in range(10)), small * 10)
        big = payload(1 << 20, 7)
        check("1 MiB in 64 KiB writes", echo(a, big, 64 * 1024), big)
        # The whole 1 MiB in one write, read back while it is still being written.
        writer = threading.Thread(target=a.sendall, args=(big,))
        writer.start()
        got = read_exactly(a, len(big))
        writer.join(DEADLINE_S)
        check("1 MiB in one write", got, big)

        b = connect(port)
        pa, pb = payload(200_000, 3), payload(200_000, 5)
        got_a, got_b = bytearray(), bytearray()
        for off in range(0, len(pa), 10_000):
            a.sendall(pa[off:off + 10_000])
            b.sendall(pb[off:off + 10_000])
            got_a += read_exactly(a, 10_000)
            got_b += read_exactly(b, 10_000)
        check("two connections at once (a)", bytes(got_a), pa)
        check("two connections at once (b)", bytes(got_b), pb)

        # Closed with its echo unread: the server sees an error or end of stream mid-send.
        # A reader that falls behind: written until nothing more is taken (uring_echo's
        # buffer ring runs dry, its recv ends with ENOBUFS), then read back in full.
        e = connect(port)
        flood = payload(16 << 20, 11)
        e.setblocking(False)
        sent = 0
        try:
            while sent < len(flood):
                sent += e.send(flood[sent:sent + (1 << 20)])
        except BlockingIOError:
            pass
        e.settimeout(DEADLINE_S)
        writer = threading.Thread(target=e.sendall, args=(flood[sent:],))
        writer.start()
        got = read_exactly(e, len(flood))
        writer.join(DEADLINE_S)
        check(f"16 MiB to a reader that fell behind ({sent} bytes unread at most)", got, flood)
        e.close()

        # As much as the sockets take without the client reading, then a reset.
        c = connect(port)
        c.setblocking(False)
        sent = 0
        try:
            while sent < (8 << 20):
                sent += c.send(big)
        except BlockingIOError:
            pass
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        c.close()
        print(f"ok: closed a connection with {sent} bytes sent and none read")
        check("after a closed connection, a", echo(a, small, 64), small)
        d = connect(port)
        check("after a closed connection, a new one", echo(d, big, 256 * 1024), big)
        for s in (a, b, d):
            s.close()
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}): {proc.stderr.read().strip()}")
    except (AssertionError, OSError) as e:
        sys.exit(f"FAIL: {e}")
    finally:
        proc.kill()
        proc.wait(timeout=DEADLINE_S)
        for line in proc.stderr.read().splitlines():
            print(f"server: {line}")
    print("PASS")


if __name__ == "__main__":
    main()
