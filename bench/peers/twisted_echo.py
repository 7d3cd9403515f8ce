#!/usr/bin/python3
"""twisted_echo: echo server on Python Twisted with the epoll reactor.

The Protocol every Twisted tutorial starts with: dataReceived writes the bytes back.
Run it with Debian's /usr/bin/python3 (which sees python3-twisted).

usage: twisted_echo.py [--port P]   (0 = the system picks; listens on 127.0.0.1 only)
"""
import argparse
import socket
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402  (after install)


class Echo(protocol.Protocol):
    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.Factory):
    protocol = Echo
    noisy = False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    port = reactor.listenTCP(args.port, EchoFactory(), backlog=socket.SOMAXCONN, interface="127.0.0.1")
    print(f"listening on 127.0.0.1:{port.getHost().port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
