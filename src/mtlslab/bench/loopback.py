"""Connections over real loopback sockets: latency per new connection, per request, and bulk throughput.

A server thread listens on 127.0.0.1 on a port the system assigns and answers every
request with a fixed response, over plaintext TCP or TLS depending on its context.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

from mtlslab.bench.memory import REQUEST, RESPONSE

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024


class EchoServer:
    """A loopback server that answers requests, or swallows a bulk upload and reports its size."""

    def __init__(self, context: ssl.SSLContext | None):
        self.context = context
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.stopping = False

    def __enter__(self) -> EchoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping = True
        with contextlib.suppress(OSError):
            socket.create_connection((LOOPBACK, self.port), timeout=1).close()
        self.thread.join(5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping:
            connection, _ = self.listener.accept()
            if self.stopping:
                connection.close()
                return
            # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add about 40 ms to a TLS handshake.
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with contextlib.suppress(OSError), connection:
                stream = self.context.wrap_socket(connection, server_side=True) if self.context else connection
                self._answer(stream)

    @staticmethod
    def _answer(stream: socket.socket) -> None:
        while True:
            data = stream.recv(CHUNK)
            if not data:
                return
            if data.startswith(b"BULK "):
                # Over plaintext TCP the first payload bytes can arrive in the same read as the header.
                header, _, payload = data.partition(b"\n")
                total = int(header.split(b" ", 1)[1])
                received = len(payload)
                while received < total:
                    chunk = stream.recv(CHUNK)
                    if not chunk:
                        return
                    received += len(chunk)
                stream.sendall(b"done")
            else:
                stream.sendall(RESPONSE)


def connect(port: int, context: ssl.SSLContext | None) -> socket.socket:
    """Open a connection to the loopback server, completing the TLS handshake when ``context`` is set."""
    raw = socket.create_connection((LOOPBACK, port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if context is None:
        return raw
    return context.wrap_socket(raw, server_hostname="localhost")


def request(stream: socket.socket) -> None:
    """Send one request and read the whole response."""
    stream.sendall(REQUEST)
    received = b""
    while len(received) < len(RESPONSE):
        chunk = stream.recv(CHUNK)
        if not chunk:
            raise ConnectionError("the loopback server closed the connection early")
        received += chunk


def new_connection_latencies(
    server_context: ssl.SSLContext | None, client_context: ssl.SSLContext | None, count: int
) -> list[float]:
    """Time ``count`` new connections, each with one request; return seconds per connection."""
    latencies = []
    with EchoServer(server_context) as server:
        for _ in range(count):
            started = time.perf_counter()
            with connect(server.port, client_context) as stream:
                request(stream)
            latencies.append(time.perf_counter() - started)
    return latencies


def reused_connection_latencies(
    server_context: ssl.SSLContext | None, client_context: ssl.SSLContext | None, count: int
) -> list[float]:
    """Time ``count`` requests over one long-lived connection; return seconds per request."""
    latencies = []
    with EchoServer(server_context) as server, connect(server.port, client_context) as stream:
        request(stream)
        for _ in range(count):
            started = time.perf_counter()
            request(stream)
            latencies.append(time.perf_counter() - started)
    return latencies


def bulk_throughput(
    server_context: ssl.SSLContext | None, client_context: ssl.SSLContext | None, megabytes: int
) -> float:
    """Upload ``megabytes`` MiB over an established connection; return MiB per second."""
    payload = bytes(CHUNK)
    total = megabytes * 1024 * 1024
    with EchoServer(server_context) as server, connect(server.port, client_context) as stream:
        started = time.perf_counter()
        stream.sendall(f"BULK {total}\n".encode())
        for _ in range(total // CHUNK):
            stream.sendall(payload)
        if stream.recv(16) != b"done":
            raise ConnectionError("the loopback server did not confirm the upload")
        elapsed = time.perf_counter() - started
    return megabytes / elapsed
