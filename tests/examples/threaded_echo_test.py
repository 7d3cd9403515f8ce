#!/usr/bin/env python3
"""examples/threaded_echo for real: concurrent clients each get their own bytes back,
and the server holds one thread per connection.

usage: threaded_echo_test.py PATH_TO_THREADED_ECHO [unittest options]
"""
import os
import socket
import sys
import threading
import time
import unittest

from example_cli import check_cli
from example_process import ExampleServer

SERVER = None
TIMEOUT = 10.0


def thread_count(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


class ThreadedEchoTest(unittest.TestCase):
    def test_help_and_bad_arguments(self):
        check_cli(self, SERVER, [(["--port", "x"], "not a whole number"), (["--interface"], "needs a value")])

    def test_concurrent_clients_each_on_a_thread(self):
        with ExampleServer([SERVER, "--port", "0"]) as server:
            clients = [socket.create_connection((server.host, server.port), timeout=TIMEOUT) for _ in range(20)]
            # One round trip each: then every connection has been accepted and has its thread.
            for i, client in enumerate(clients):
                client.sendall(b"hello %d" % i)
                self.assertEqual(client.recv(100), b"hello %d" % i)
            busy = thread_count(server.proc.pid)
            # The accepting thread and one per client; a sanitizer's runtime may add its own
            # (TSan starts a background thread), so the exact count is checked below, as
            # the 20 threads that end with their clients.
            self.assertGreaterEqual(busy, 21)
            errors = []

            def bulk(client, seed):
                payload = os.urandom(64) * (2000 + seed)
                sender = threading.Thread(target=client.sendall, args=(payload,))
                sender.start()
                got = bytearray()
                while len(got) < len(payload):
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    got.extend(chunk)
                sender.join()
                if bytes(got) != payload:
                    errors.append(seed)

            workers = [threading.Thread(target=bulk, args=(c, i)) for i, c in enumerate(clients)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(TIMEOUT * 3)
            self.assertEqual(errors, [])
            for client in clients:
                client.close()
            deadline = time.monotonic() + TIMEOUT
            while thread_count(server.proc.pid) > busy - 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(thread_count(server.proc.pid), busy - 20)


if __name__ == "__main__":
    SERVER = sys.argv.pop(1)
    unittest.main()
