#!/usr/bin/env python3
"""The chat step of the demo tour: scripted clients talk through examples/chat_server and
the transcript is printed as it happens ("nick > line" sent, "nick < line" received).

usage: chat_script.py PORT
"""
import socket
import sys

TIMEOUT = 10.0


class Client:
    def __init__(self, name, port):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buffer = b""

    def send(self, line):
        shown = line if len(line) <= 60 else f"{line[:20]}... ({len(line)} bytes)"
        print(f"  {self.name:>6} > {shown}")
        self.sock.sendall(line.encode() + b"\r\n")

    def expect(self, wanted):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SystemExit(f"chat_script: {self.name}: connection closed, wanted {wanted!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        line = line.decode()
        print(f"  {self.name:>6} < {line}")
        if line != wanted:
            raise SystemExit(f"chat_script: {self.name}: got {line!r}, wanted {wanted!r}")


def main():
    port = int(sys.argv[1])
    alice = Client("alice", port)
    alice.send("alice")
    alice.expect("* welcome alice")
    bob = Client("bob", port)
    bob.send("alice")
    bob.expect("! name taken")
    bob.send("bob!")
    bob.expect("! bad name")
    bob.send("bob")
    bob.expect("* welcome bob")
    alice.expect("* bob joined")
    carol = Client("carol", port)
    carol.send("carol")
    carol.expect("* welcome carol")
    alice.expect("* carol joined")
    bob.expect("* carol joined")
    alice.send("hello from one event loop")
    bob.expect("<alice> hello from one event loop")
    carol.expect("<alice> hello from one event loop")
    carol.send("/who")
    carol.expect("* users: alice, bob, carol")
    bob.send("/quit")
    bob.expect("* bye")
    alice.expect("* bob left")
    carol.expect("* bob left")
    carol.send("x" * 600)
    carol.expect("! line too long")
    alice.expect("* carol left")
    print("  (the idle timeout closes alice after --idle-timeout seconds)")
    alice.expect("! idle timeout")


if __name__ == "__main__":
    main()
