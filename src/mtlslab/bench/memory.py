"""Handshakes between two ``ssl.SSLObject`` peers over memory buffers, timed per side.

Both peers run in one thread and never wait for a network, so the time spent inside
each peer's calls is that peer's CPU cost, and the bytes moved between the buffers
are exactly the TLS records a network would carry (without TCP/IP headers).
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

# A handshake that has not finished after this many round trips is stuck, not slow.
MAX_ROUND_TRIPS = 20


@dataclass(frozen=True)
class HandshakeSample:
    """The cost of one handshake followed by one request and response."""

    client_seconds: float
    server_seconds: float
    handshake_bytes: int
    total_bytes: int
    resumed: bool


class _Peer:
    """One side of a connection: an SSLObject, its buffers, and the time spent in its calls."""

    def __init__(self, context: ssl.SSLContext, server_side: bool, session=None, server_hostname=None):
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(
            self.incoming,
            self.outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
        )
        self.seconds = 0.0
        self.handshake_done = False

    def step_handshake(self) -> None:
        if self.handshake_done:
            return
        started = time.perf_counter()
        try:
            self.tls.do_handshake()
            self.handshake_done = True
        except ssl.SSLWantReadError:
            pass
        finally:
            self.seconds += time.perf_counter() - started

    def timed(self, operation, *arguments):
        started = time.perf_counter()
        try:
            return operation(*arguments)
        finally:
            self.seconds += time.perf_counter() - started


def _transfer(source: _Peer, target: _Peer) -> int:
    data = source.outgoing.read()
    if data:
        target.incoming.write(data)
    return len(data)


def memory_handshake(
    client_context: ssl.SSLContext,
    server_context: ssl.SSLContext,
    session: ssl.SSLSession | None = None,
) -> tuple[HandshakeSample, ssl.SSLSession | None]:
    """Run one handshake and one request/response in memory; return its sample and the client's session.

    Pass the returned session to the next call to measure TLS session resumption. In
    TLS 1.3 the server sends its session ticket after the handshake, so the session is
    read only after the response has arrived.
    """
    client = _Peer(client_context, server_side=False, session=session, server_hostname="localhost")
    server = _Peer(server_context, server_side=True)

    handshake_bytes = 0
    for _ in range(MAX_ROUND_TRIPS):
        client.step_handshake()
        handshake_bytes += _transfer(client, server)
        server.step_handshake()
        handshake_bytes += _transfer(server, client)
        if client.handshake_done and server.handshake_done:
            break
    else:
        raise RuntimeError("the in-memory handshake did not finish; check that the contexts trust each other")

    exchange_bytes = _exchange(client, server)
    sample = HandshakeSample(
        client_seconds=client.seconds,
        server_seconds=server.seconds,
        handshake_bytes=handshake_bytes,
        total_bytes=handshake_bytes + exchange_bytes,
        resumed=client.tls.session_reused,
    )
    return sample, client.tls.session


def _exchange(client: _Peer, server: _Peer) -> int:
    moved = 0
    client.timed(client.tls.write, REQUEST)
    moved += _transfer(client, server)

    request = server.timed(server.tls.read, 65536)
    if request != REQUEST:
        raise RuntimeError("the server received a different request than the client sent")
    server.timed(server.tls.write, RESPONSE)
    moved += _transfer(server, client)

    response = b""
    while len(response) < len(RESPONSE):
        try:
            response += client.timed(client.tls.read, 65536)
        except ssl.SSLWantReadError:
            raise RuntimeError("the client did not receive the whole response") from None
    return moved
