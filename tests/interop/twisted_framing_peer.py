"""Twisted's own framing receivers, as a peer for torsion's wire-compatibility tests.

Run with the Python that has Debian's python3-twisted (/usr/bin/python3):

  twisted_framing_peer.py server --framing int32
      An echo server on 127.0.0.1 with an OS-picked port. Prints
      "listening on 127.0.0.1:PORT" when ready, echoes each message as one message,
      and exits after --lifetime seconds in any case.

  twisted_framing_peer.py client --framing int32 --port PORT --scenario echo
      Talks to an echo server in that framing and checks the answers. Prints "OK"
      and exits 0 on success; prints what went wrong and exits 1 otherwise.

Scenarios: "echo" sends messages up to the size limit, many in one write and others
split into pieces sent apart (across the length prefix too), and expects each back
exactly once; "oversize" sends one good message then one a byte over the limit, and
expects the good one back and the connection dropped by the server.
"""

import argparse
import struct
import sys

from twisted.internet import protocol, reactor
from twisted.protocols import basic

RECEIVERS = {
    "line": basic.LineReceiver,
    "int16": basic.Int16StringReceiver,
    "int32": basic.Int32StringReceiver,
    "netstring": basic.NetstringReceiver,
}


def limit_of(framing, max_length):
    """The longest message both sides accept in this framing."""
    if framing == "int16":
        return min(max_length, 0xFFFF)
    return max_length


def default_max_length(framing):
    return RECEIVERS[framing].MAX_LENGTH


def encode(framing, message):
    """The bytes of one message, framed independently of Twisted's own sending code."""
    if framing == "line":
        return message + b"\r\n"
    if framing == "int16":
        return struct.pack("!H", len(message)) + message
    if framing == "int32":
        return struct.pack("!I", len(message)) + message
    return str(len(message)).encode() + b":" + message + b","


def oversize_frame(framing, limit):
    """A message one byte over the limit (only its start: the server must refuse it)."""
    if framing == "line":
        return b"z" * (limit + 1) + b"\r\n"
    if framing == "int32":
        return struct.pack("!I", limit + 1) + b"z" * 10
    if framing == "netstring":
        return str(limit + 1).encode() + b":" + b"z" * 10
    raise SystemExit("no oversize scenario for int16: its prefix cannot exceed its limit")


def make_receiver_class(framing, max_length, on_message):
    base = RECEIVERS[framing]

    class Receiver(base):
        MAX_LENGTH = max_length

        def connectionMade(self):
            self.transport.setTcpNoDelay(True)
            self.factory.connected(self)

        def connectionLost(self, reason):
            self.factory.lost(self, reason)

    name = "lineReceived" if framing == "line" else "stringReceived"
    setattr(Receiver, name, lambda self, message: on_message(self, message))
    return Receiver


class EchoServerFactory(protocol.ServerFactory):
    def __init__(self, framing, max_length):
        send = "sendLine" if framing == "line" else "sendString"
        self.protocol = make_receiver_class(framing, max_length, lambda p, m: getattr(p, send)(m))

    def connected(self, proto):
        pass

    def lost(self, proto, reason):
        pass


def run_server(args):
    factory = EchoServerFactory(args.framing, args.max_length)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    print("listening on 127.0.0.1:%d" % port.getHost().port, flush=True)
    reactor.callLater(args.lifetime, reactor.stop)
    reactor.run()
    return 0


class CheckingClientFactory(protocol.ClientFactory):
    """Sends a scenario's bytes and checks what comes back; stops the reactor when done."""

    def __init__(self, framing, max_length, scenario):
        self.framing = framing
        self.limit = limit_of(framing, max_length)
        self.scenario = scenario
        self.protocol = make_receiver_class(framing, max_length, self.received)
        self.got = []
        self.problems = []
        self.closed = False
        self.done = False
        if scenario == "echo":
            small = [b"", b"a", b"hello world", b"\x00\xff\r \n binary", b"x" * 1000]
            if framing != "line":
                small.append(b"\r\n,:0123")
            small = [m for m in small if len(m) <= self.limit]
            self.expected = small + [b"m" * (self.limit - 1), b"y" * self.limit, b"after"]
        else:
            self.expected = [b"before"]

    def connected(self, proto):
        writes = []
        if self.scenario == "echo":
            # Several messages in one write: one read on the other side holds many.
            writes.append(b"".join(encode(self.framing, m) for m in self.expected[:-3]))
            # Large messages cut at awkward places, sent apart: each straddles reads.
            for message in self.expected[-3:]:
                frame = encode(self.framing, message)
                for start, end in ((0, 1), (1, 3), (3, len(frame) // 2), (len(frame) // 2, len(frame))):
                    if start < end:
                        writes.append(frame[start:end])
        else:
            writes.append(encode(self.framing, b"before"))
            writes.append(oversize_frame(self.framing, self.limit))
        for i, chunk in enumerate(writes):
            reactor.callLater(0.02 * i, proto.transport.write, chunk)
        if self.scenario == "echo":
            reactor.callLater(0.02 * len(writes) + 10, self.finish, proto, "timed out waiting for the echoes")

    def received(self, proto, message):
        self.got.append(bytes(message))
        if self.scenario == "echo" and len(self.got) == len(self.expected):
            self.finish(proto, None)

    def lost(self, proto, reason):
        self.closed = True
        if self.scenario == "oversize":
            self.finish(proto, None)
        elif len(self.got) != len(self.expected):
            self.finish(proto, "the server closed the connection early")

    def finish(self, proto, problem):
        if problem:
            self.problems.append(problem)
        if self.done:
            return
        self.done = True
        if reactor.running:
            proto.transport.loseConnection()
            reactor.callLater(0, reactor.stop)

    def clientConnectionFailed(self, connector, reason):
        self.problems.append("could not connect: %s" % reason.getErrorMessage())
        reactor.stop()


def describe(messages):
    return [m if len(m) < 40 else b"<%d bytes %r...>" % (len(m), m[:8]) for m in messages]


def run_client(args):
    factory = CheckingClientFactory(args.framing, args.max_length, args.scenario)
    reactor.connectTCP("127.0.0.1", args.port, factory)
    reactor.callLater(args.lifetime, lambda: (factory.problems.append("overall timeout"), reactor.stop()))
    reactor.run()
    if factory.got != factory.expected:
        factory.problems.append("received %r, expected %r" % (describe(factory.got), describe(factory.expected)))
    if args.scenario == "oversize" and not factory.closed:
        factory.problems.append("the server did not drop the connection after an oversized message")
    if factory.problems:
        print("FAILED: " + "; ".join(factory.problems), flush=True)
        return 1
    print("OK", flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--framing", choices=sorted(RECEIVERS), required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--scenario", choices=["echo", "oversize"], default="echo")
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    if args.max_length is None:
        args.max_length = default_max_length(args.framing)
    return run_server(args) if args.role == "server" else run_client(args)


if __name__ == "__main__":
    sys.exit(main())
