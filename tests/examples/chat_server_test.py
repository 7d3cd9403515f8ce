#!/usr/bin/env python3
"""examples/chat_server with several real clients (Python sockets): nicknames,
broadcast, /who, /quit, both line ends, the line limit, the idle timeout and the slow
reader that is dropped.

usage: chat_server_test.py PATH_TO_CHAT_SERVER [unittest options]
"""
import socket
import sys
import time
import unittest

from example_cli import check_cli
from example_process import ExampleServer

SERVER = None  # set from argv
TIMEOUT = 10.0  # seconds for any one blocking read: a hang fails instead of waiting


class Client:
    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""

    def send(self, line, end=b"\r\n"):
        self.sock.sendall(line.encode() + end)

    def line(self):
        """The next line, which must end in \\r\\n; None at end of stream."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        assert line.endswith(b"\r"), f"line not ended by \\r\\n: {line!r}"
        return line[:-1].decode()

    def closed(self):
        """True if the server closes the connection (after any lines still queued)."""
        try:
            while self.line() is not None:
                pass
            return True
        except ConnectionResetError:
            return True

    def join(self, nick):
        self.send(nick)
        assert self.line() == f"* welcome {nick}"
        return self

    def close(self):
        self.sock.close()


class ChatTest(unittest.TestCase):
    def server(self, *args):
        server = ExampleServer([SERVER, "--port", "0", *args])
        self.addCleanup(server.stop)
        return server

    def client(self, server, **kwargs):
        client = Client(server.port, **kwargs)
        self.addCleanup(client.close)
        return client

    def test_help_and_bad_arguments(self):
        check_cli(self, SERVER, [
            (["--port", "70000"], "outside"),
            (["--max-line", "0"], "outside"),
            (["--idle-timeout", "0"], "outside"),
            (["--idle-timeout", "soon"], "not a number of seconds"),
            (["--max-output"], "needs a value"),
        ])

    def test_nicknames_bad_taken_and_retry(self):
        server = self.server()
        a = self.client(server).join("alice")
        b = self.client(server)
        for bad in ["", "bad name", "x" * 33, "semi;colon", "caf\u00e9"]:
            b.send(bad)
            self.assertEqual(b.line(), "! bad name", bad)
        b.send("alice")
        self.assertEqual(b.line(), "! name taken")
        b.send("B_ob-" + "9" * 27)  # 32 characters: the longest name
        self.assertEqual(b.line(), "* welcome B_ob-" + "9" * 27)
        self.assertEqual(a.line(), "* B_ob-" + "9" * 27 + " joined")

    def test_broadcast_reaches_every_other_client(self):
        server = self.server()
        a = self.client(server).join("a")
        b = self.client(server).join("b")
        self.assertEqual(a.line(), "* b joined")
        c = self.client(server).join("c")
        self.assertEqual(a.line(), "* c joined")
        self.assertEqual(b.line(), "* c joined")
        a.send("hello, all", end=b"\n")  # a bare "\n" ends a line as well
        self.assertEqual(b.line(), "<a> hello, all")
        self.assertEqual(c.line(), "<a> hello, all")
        # The sender does not hear itself: the next line it gets is its /who answer.
        a.send("/who")
        self.assertEqual(a.line(), "* users: a, b, c")

    def test_who_is_sorted(self):
        server = self.server()
        for nick in ["zed", "Amy", "mo", "bob"]:
            self.client(server).join(nick)
        asker = self.client(server).join("kim")
        asker.send("/who")
        self.assertEqual(asker.line(), "* users: Amy, bob, kim, mo, zed")

    def test_quit_says_bye_closes_and_others_see_left(self):
        server = self.server()
        a = self.client(server).join("a")
        b = self.client(server).join("b")
        self.assertEqual(a.line(), "* b joined")
        b.send("/quit")
        self.assertEqual(b.line(), "* bye")
        self.assertTrue(b.closed())
        self.assertEqual(a.line(), "* b left")
        a.send("/who")
        self.assertEqual(a.line(), "* users: a")
        # The name is free again.
        self.client(server).join("b")

    def test_line_too_long_closes_that_client_only(self):
        server = self.server("--max-line", "16")
        a = self.client(server).join("a")
        b = self.client(server).join("b")
        self.assertEqual(a.line(), "* b joined")
        b.send("x" * 16)  # exactly the limit, with "\r\n": accepted
        self.assertEqual(a.line(), "<b> " + "x" * 16)
        b.send("y" * 17)
        self.assertEqual(b.line(), "! line too long")
        self.assertTrue(b.closed())
        self.assertEqual(a.line(), "* b left")
        # A line too long without any line end yet counts too.
        c = self.client(server)
        c.sock.sendall(b"z" * 100)
        self.assertEqual(c.line(), "! line too long")
        self.assertTrue(c.closed())
        a.send("/who")
        self.assertEqual(a.line(), "* users: a")

    def test_idle_client_is_closed(self):
        server = self.server("--idle-timeout", "0.5")
        start = time.monotonic()
        a = self.client(server).join("a")
        unnamed = self.client(server)
        self.assertEqual(a.line(), "! idle timeout")
        self.assertGreaterEqual(time.monotonic() - start, 0.45)
        self.assertTrue(a.closed())
        self.assertEqual(unnamed.line(), "! idle timeout")
        self.assertTrue(unnamed.closed())

    def test_activity_defers_the_idle_timeout(self):
        server = self.server("--idle-timeout", "1")
        start = time.monotonic()  # before the watcher's last line: its timeout ends >= 1 s later
        watcher = self.client(server).join("watcher")
        talker = self.client(server).join("talker")
        self.assertEqual(watcher.line(), "* talker joined")
        # The talker keeps asking /who (paced, not synchronised, by the short sleep)
        # until the silent watcher has been closed; the talker itself stays open.
        lines = []
        while "* watcher left" not in lines and time.monotonic() - start < 5:
            talker.send("/who")
            lines.append(talker.line())
            time.sleep(0.05)
        self.assertIn("* watcher left", lines)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        self.assertEqual(watcher.line(), "! idle timeout")
        self.assertTrue(watcher.closed())
        talker.send("/who")
        self.assertEqual(talker.line(), "* users: talker")

    def test_slow_reader_is_dropped_and_logged(self):
        server = self.server("--max-output", "65536", "--max-line", "1000")
        slow = self.client(server, rcvbuf=4096).join("slow")
        sender = self.client(server).join("sender")
        line = "s" * 1000
        dropped = False
        seen = []
        # The kernel's buffers take a few MB first; past them the server's queue for
        # "slow" grows to the cap and the server drops it. Bounded: 64 MB at most.
        for _ in range(64):
            for _ in range(1000):
                sender.send(line)
            sender.send("/who")
            while True:
                answer = sender.line()
                seen.append(answer)
                if answer.startswith("* users: "):
                    break
            if answer == "* users: sender":
                dropped = True
                break
        self.assertTrue(dropped, "the slow reader was never dropped")
        self.assertIn("* slow left", seen)
        self.assertTrue(server.wait_for_stderr(r"dropping slow .*slow reader", 5), server.stderr())
        self.assertTrue(slow.closed())


if __name__ == "__main__":
    SERVER = sys.argv.pop(1)
    unittest.main()
