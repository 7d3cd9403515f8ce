#!/usr/bin/env python3
"""A client torsion did not write: checks examples/echo_server using only Python's standard
library (socket, threading, random). Prints one line per check; exits 0 when all pass.

usage: echo_client.py --port PORT [--host 127.0.0.1]
"""
import argparse
import random
import socket
import struct
import sys
import threading

TIMEOUT = 10.0  # seconds for any one blocking operation: a hang fails instead of waiting


def connect(host, port):
    return socket.create_connection((host, port), timeout=TIMEOUT)


def recv_until_eof(sock):
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def recv_exactly(sock, size):
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"connection closed after {len(data)} of {size} bytes")
        data.extend(chunk)
    return bytes(data)


def check_bulk(host, port):
    """1 MiB of random bytes in random-sized writes, read back concurrently, byte-exact."""
    payload = random.Random(1).randbytes(1 << 20)
    received = bytearray()
    with connect(host, port) as sock:

        def reader():
            try:
                while len(received) < len(payload):
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    received.extend(chunk)
            except OSError:
                return

        thread = threading.Thread(target=reader)
        thread.start()
        sizes = random.Random(2)
        offset = 0
        while offset < len(payload):
            size = sizes.randint(1, 65536)
            sock.sendall(payload[offset:offset + size])
            offset += size
        thread.join(2 * TIMEOUT)
    if bytes(received) != payload:
        mismatch = next((i for i, (a, b) in enumerate(zip(received, payload)) if a != b), len(received))
        raise AssertionError(f"bulk echo differs at byte {mismatch} (got {len(received)} bytes)")


def check_ping_pong(host, port):
    """Many small round trips on one connection."""
    with connect(host, port) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(300):
            message = f"ping {i:05d}".encode()
            sock.sendall(message)
            echoed = recv_exactly(sock, len(message))
            if echoed != message:
                raise AssertionError(f"round trip {i}: sent {message!r}, got {echoed!r}")


def check_concurrent(host, port):
    """Fifty connections open at once, each with its own message."""
    sockets = [connect(host, port) for _ in range(50)]
    try:
        messages = [f"connection {i}: ".encode() + random.Random(i).randbytes(2000) for i in range(len(sockets))]
        for sock, message in zip(sockets, messages):
            sock.sendall(message)
        for i, (sock, message) in enumerate(zip(sockets, messages)):
            if recv_exactly(sock, len(message)) != message:
                raise AssertionError(f"connection {i} got another connection's bytes")
    finally:
        for sock in sockets:
            sock.close()


def check_half_close(host, port):
    """After our FIN, what was sent before it still comes back, then the server closes."""
    with connect(host, port) as sock:
        message = b"before the FIN " * 64
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        echoed = recv_until_eof(sock)
        if echoed != message:
            raise AssertionError(f"half-close: got {len(echoed)} of {len(message)} bytes")


def check_reset_then_serve(host, port):
    """A peer that resets mid-stream does not hurt the server: the next one is served."""
    sock = connect(host, port)
    sock.sendall(b"x" * 100000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST, with the echo still in flight
    with connect(host, port) as again:
        again.sendall(b"still serving?")
        if recv_exactly(again, 14) != b"still serving?":
            raise AssertionError("no echo after a peer reset")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    checks = [check_bulk, check_ping_pong, check_concurrent, check_half_close, check_reset_then_serve]
    failed = 0
    for check in checks:
        try:
            check(args.host, args.port)
            print(f"ok   {check.__name__}", flush=True)
        except (AssertionError, OSError) as error:
            failed += 1
            print(f"FAIL {check.__name__}: {error}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
