"""Sidecar-style proxies on loopback: an inbound proxy that terminates mTLS and an outbound one that originates it.

The inbound proxy listens on 127.0.0.1 on a port the system assigns. In PERMISSIVE mode
it accepts mTLS and plaintext on that one port. It tells them apart by peeking at the
first byte without consuming it, because a TLS connection starts with a record of
content type 22, handshake (0x16, RFC 8446 section 5.1), and an HTTP request starts
with a letter.
In STRICT mode it closes every connection that does not start with a handshake record.
After the handshake it reads the peer identity from the client certificate's SPIFFE URI
SAN and applies the authorization policy, as an Envoy sidecar does.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography import x509

from mtlslab.errors import InputError
from mtlslab.mesh.certificates import peer_identity
from mtlslab.mesh.listener import LoopbackStreamServer

_log = logging.getLogger(__name__)

MODES = ("PERMISSIVE", "STRICT")
TLS_HANDSHAKE_CONTENT_TYPE = 0x16

ALLOWED = "allowed"
REJECTED_BY_MODE = "rejected by mode"
REJECTED_BY_POLICY = "rejected by policy"
HANDSHAKE_FAILED = "handshake failed"
FAILED = "failed"
OUTCOMES = (ALLOWED, REJECTED_BY_MODE, REJECTED_BY_POLICY, HANDSHAKE_FAILED, FAILED)

FORBIDDEN_RESPONSE = (
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
    b"RBAC: access denied\n"
)

# Opens a connection to the application behind the proxy.
AppConnector = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


@dataclass(frozen=True)
class AuthorizationPolicy:
    """An ALLOW policy: only the listed peer identities (SPIFFE IDs) may reach the workload.

    A plaintext request has no peer identity, so it never matches, as with an Istio
    AuthorizationPolicy that lists principals.
    """

    allowed_identities: frozenset[str]

    def allows(self, identity: str | None) -> bool:
        """Return whether a request from ``identity`` (None for plaintext) is allowed."""
        return identity is not None and identity in self.allowed_identities


@dataclass
class InboundEvent:
    """The inbound proxy's decision on one connection."""

    destination: str
    transport: str = "none"
    outcome: str = FAILED
    peer_identity: str | None = None
    detail: str = ""


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is PERMISSIVE or STRICT, else raise InputError."""
    if mode not in MODES:
        raise InputError(f"unknown mTLS mode {mode!r}: use PERMISSIVE or STRICT")
    return mode


class InboundProxy:
    """Terminate mTLS (and, in PERMISSIVE mode, plaintext) in front of one workload's app."""

    def __init__(
        self,
        workload: str,
        server_context: ssl.SSLContext,
        connect_app: AppConnector,
        *,
        mode: str = "STRICT",
        policy: AuthorizationPolicy | None = None,
        timeout: float = 5.0,
    ):
        self.workload = workload
        self.mode = check_mode(mode)
        self.policy = policy
        self.timeout = timeout
        self.events: asyncio.Queue[InboundEvent] = asyncio.Queue()
        self._server_context = server_context
        self._connect_app = connect_app
        self._listener: socket.socket | None = None
        self._accept_task: asyncio.Task | None = None
        self._handlers: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        """The port the proxy listens on, on 127.0.0.1."""
        if self._listener is None:
            raise RuntimeError("the inbound proxy has not been started")
        return self._listener.getsockname()[1]

    async def start(self) -> None:
        """Bind 127.0.0.1 on a port the system assigns and start accepting connections."""
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        self._listener = listener
        self._accept_task = asyncio.create_task(self._accept_loop())

    async def close(self) -> None:
        """Stop accepting, cancel open connections and close the listening socket."""
        tasks = [task for task in (self._accept_task, *self._handlers) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._listener is not None:
            self._listener.close()

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            connection, _ = await loop.sock_accept(self._listener)
            task = asyncio.create_task(self._handle(connection))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _handle(self, connection: socket.socket) -> None:
        event = InboundEvent(self.workload)
        try:
            first = await self._peek(connection)
            if not first:
                event.detail = "the client closed the connection before sending anything"
            elif first[0] == TLS_HANDSHAKE_CONTENT_TYPE:
                connection = await self._serve_tls(connection, event)
            else:
                await self._serve_plaintext(connection, event, first[0])
        except (OSError, asyncio.TimeoutError) as error:
            event.outcome = FAILED
            event.detail = f"{type(error).__name__}: {error}"
        finally:
            if connection is not None:
                connection.close()
            _log.info(
                "inbound %s [%s] %s: %s, peer %s, %s",
                self.workload, self.mode, event.transport, event.outcome, event.peer_identity, event.detail,
            )
            await self.events.put(event)

    async def _peek(self, connection: socket.socket) -> bytes:
        """Wait until the client sends something, then read its first byte without consuming it."""
        loop = asyncio.get_running_loop()
        readable = loop.create_future()

        def mark_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(connection.fileno(), mark_readable)
        try:
            await asyncio.wait_for(readable, self.timeout)
        finally:
            loop.remove_reader(connection.fileno())
        return connection.recv(1, socket.MSG_PEEK)

    async def _serve_plaintext(self, connection: socket.socket, event: InboundEvent, first_byte: int) -> None:
        event.transport = "plaintext"
        if self.mode == "STRICT":
            event.outcome = REJECTED_BY_MODE
            event.detail = (
                f"STRICT accepts only mTLS, and the first byte 0x{first_byte:02x} is not a TLS handshake record (0x16)"
            )
            return
        reader, writer = await asyncio.open_connection(sock=connection)
        try:
            await self._authorize_and_forward(reader, writer, event)
        finally:
            writer.close()

    async def _serve_tls(self, connection: socket.socket, event: InboundEvent) -> None:
        """Complete the server side of the mTLS handshake on the peeked socket, then authorize and forward.

        Returns None because the TLS transport takes ownership of the socket.
        """
        event.transport = "mtls"
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        try:
            transport, _ = await asyncio.wait_for(
                loop.connect_accepted_socket(
                    lambda: protocol, connection, ssl=self._server_context, ssl_handshake_timeout=self.timeout
                ),
                self.timeout,
            )
        except (ssl.SSLError, ConnectionError) as error:
            event.outcome = HANDSHAKE_FAILED
            event.detail = f"{type(error).__name__}: {getattr(error, 'reason', None) or error}"
            return None
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        try:
            der = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
            certificate = x509.load_der_x509_certificate(der) if der else None
            event.peer_identity = peer_identity(certificate)
            await self._authorize_and_forward(reader, writer, event)
        finally:
            writer.close()
        return None

    async def _authorize_and_forward(self, reader, writer, event: InboundEvent) -> None:
        if self.policy is not None and not self.policy.allows(event.peer_identity):
            event.outcome = REJECTED_BY_POLICY
            who = event.peer_identity or "a plaintext client with no identity"
            event.detail = f"the authorization policy of {self.workload} does not allow {who}"
            writer.write(FORBIDDEN_RESPONSE)
            await asyncio.wait_for(writer.drain(), self.timeout)
            return
        app_reader, app_writer = await asyncio.wait_for(self._connect_app(), self.timeout)
        try:
            await asyncio.wait_for(relay(reader, writer, app_reader, app_writer), self.timeout)
        finally:
            app_writer.close()
        event.outcome = ALLOWED
        event.detail = f"forwarded to the {self.workload} app"


class OutboundProxy(LoopbackStreamServer):
    """Accept the local app's plaintext connections and carry them over mTLS to one destination's inbound proxy.

    After the handshake the proxy checks that the server certificate carries the
    destination's expected identity (Istio calls this secure naming) and closes the
    connection when it does not.
    """

    description = "the outbound proxy"

    def __init__(
        self,
        source: str,
        client_context: ssl.SSLContext,
        destination_port: int,
        expected_server_identity: str,
        *,
        timeout: float = 5.0,
    ):
        super().__init__(timeout=timeout)
        self.source = source
        self.last_server_identity: str | None = None
        self._client_context = client_context
        self._destination_port = destination_port
        self._expected = expected_server_identity

    async def close(self) -> None:
        """Stop listening, give open connections ``timeout`` seconds to finish, then cancel the rest."""
        await super().close(grace=self.timeout)

    async def _handle(self, app_reader: asyncio.StreamReader, app_writer: asyncio.StreamWriter) -> None:
        task = self._track()
        try:
            await self._forward(app_reader, app_writer)
        except asyncio.CancelledError:
            # Python 3.11's start_server logs a cancelled connection task as an error; a
            # cancelled connection here only means the simulator is shutting down.
            app_writer.close()
        finally:
            self._handlers.discard(task)

    async def _forward(self, app_reader: asyncio.StreamReader, app_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(
                    "127.0.0.1",
                    self._destination_port,
                    ssl=self._client_context,
                    server_hostname="",
                    ssl_handshake_timeout=self.timeout,
                ),
                self.timeout,
            )
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as error:
            _log.info("outbound %s -> port %d: connection failed: %r", self.source, self._destination_port, error)
            app_writer.close()
            return
        try:
            der = upstream_writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            self.last_server_identity = peer_identity(x509.load_der_x509_certificate(der))
            if self.last_server_identity != self._expected:
                _log.warning(
                    "outbound %s: server identity %s is not the expected %s; closing",
                    self.source, self.last_server_identity, self._expected,
                )
                return
            await asyncio.wait_for(relay(app_reader, app_writer, upstream_reader, upstream_writer), self.timeout)
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as error:
            _log.info("outbound %s: relay ended with %r", self.source, error)
        finally:
            upstream_writer.close()
            app_writer.close()


async def relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader,
    upstream_writer: asyncio.StreamWriter,
) -> None:
    """Copy the request upstream and the response back until the upstream side closes.

    The app protocol is one HTTP/1.1 request per connection with ``Connection: close``,
    so the relay ends when the upstream has sent its whole response. Waiting for a
    half-close from the client instead would hang: asyncio's TLS transport cannot send
    one (``can_write_eof()`` is False).
    """
    request = asyncio.create_task(_copy(client_reader, upstream_writer))
    try:
        await _copy(upstream_reader, client_writer)
    finally:
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, ssl.SSLError):
        pass
