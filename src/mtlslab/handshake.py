"""Run a real TLS or mTLS handshake between two Python ``ssl`` peers on loopback.

The server listens on 127.0.0.1 on a port the system assigns, accepts one connection,
completes the handshake, reads one request and answers it. The client connects,
completes its handshake, sends the request and reads the reply. Each side reports
what it saw: the negotiated version and cipher suite, the peer's certificate, or the
error it raised and in which phase.

The exchange after the handshake matters. In TLS 1.3 the client sends its
Certificate, CertificateVerify and Finished in its last flight and considers the
handshake complete at once (RFC 8446 section 2, Figure 1, and the client state
machine in Appendix A.1). The server checks the client's certificate only after that
flight, so a rejected client learns of it on its first read, as a
certificate_required or bad_certificate alert.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from dataclasses import dataclass, field

from cryptography import x509

from mtlslab.alerts import Alert, alert_from_ssl_reason
from mtlslab.pki.summary import subject_alt_names

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT = 5.0
REQUEST = b"ping"

# str(ssl.SSLError) ends with the C source line that raised it, which changes
# between Python builds; reports drop it so that the text is stable.
_SOURCE_LOCATION = re.compile(r"\s*\(_ssl\.c:\d+\)$")


@dataclass
class PeerReport:
    """The outcome for one side of the connection: its session details, or the error it raised."""

    role: str
    handshake_completed: bool = False
    tls_version: str | None = None
    cipher: str | None = None
    peer_certificate: x509.Certificate | None = None
    received: bytes = b""
    error: str | None = None
    error_type: str | None = None
    error_phase: str | None = None
    alert_received: Alert | None = None

    @property
    def ok(self) -> bool:
        """True when this side completed the handshake and the request and reply went through."""
        return self.handshake_completed and self.error is None

    def __str__(self) -> str:
        if self.ok:
            peer = _describe_peer(self.peer_certificate)
            return f"{self.role}: OK, {self.tls_version}, {self.cipher}, peer certificate: {peer}"
        text = f"{self.role}: failed during {self.error_phase}: {self.error_type}: {self.error}"
        if self.handshake_completed:
            text += f" (after its handshake completed with {self.tls_version})"
        return text

    def _record_error(self, phase: str, error: BaseException) -> None:
        self.error_phase = phase
        self.error_type = type(error).__name__
        self.error = _SOURCE_LOCATION.sub("", str(error)) or self.error_type
        self.alert_received = alert_from_ssl_reason(getattr(error, "reason", None))

    def _record_session(self, tls: ssl.SSLSocket) -> None:
        self.handshake_completed = True
        self.tls_version = tls.version()
        self.cipher = tls.cipher()[0]
        der = tls.getpeercert(binary_form=True)
        self.peer_certificate = x509.load_der_x509_certificate(der) if der else None


@dataclass
class HandshakeResult:
    """The reports of both sides of one connection."""

    client: PeerReport = field(default_factory=lambda: PeerReport("client"))
    server: PeerReport = field(default_factory=lambda: PeerReport("server"))

    @property
    def ok(self) -> bool:
        """True when both sides completed the handshake and exchanged a request and a reply."""
        return self.client.ok and self.server.ok

    def __str__(self) -> str:
        return f"{self.client}\n{self.server}"


def run_handshake(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    *,
    server_hostname: str | None = "localhost",
    request: bytes = REQUEST,
    timeout: float = DEFAULT_TIMEOUT,
    listener: socket.socket | None = None,
) -> HandshakeResult:
    """Connect a client to a one-shot server on loopback and return both sides' reports.

    ``server_hostname`` is sent as SNI and checked against the server certificate when
    the client context has ``check_hostname`` set. ``listener`` is a listening socket on
    127.0.0.1 to serve from, for a caller that must know the port first; it is closed
    on return. Without it the server listens on a port the system assigns.
    """
    result = HandshakeResult()
    with listener or socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(timeout)
        port = listener.getsockname()[1]
        server = threading.Thread(
            target=_serve_once, args=(listener, server_context, result.server, timeout), daemon=True
        )
        server.start()
        _connect(port, client_context, server_hostname, request, timeout, result.client)
        server.join(timeout)
    if server.is_alive():
        result.server._record_error("handshake", TimeoutError("the server did not finish in time"))
    return result


def _serve_once(listener: socket.socket, context: ssl.SSLContext, report: PeerReport, timeout: float) -> None:
    try:
        connection, _ = listener.accept()
    except OSError as error:
        report._record_error("accept", error)
        return

    connection.settimeout(timeout)
    tls = context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
    with tls:
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            report._record_error("handshake", error)
            drain_before_close(tls)
            return

        report._record_session(tls)
        try:
            report.received = tls.recv(1024)
            tls.sendall(b"pong: " + report.received)
        except (ssl.SSLError, OSError) as error:
            report._record_error("exchange", error)


def _connect(port, context, server_hostname, request, timeout, report: PeerReport) -> None:
    try:
        raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
    except OSError as error:
        report._record_error("connect", error)
        return

    try:
        tls = context.wrap_socket(raw, server_hostname=server_hostname, do_handshake_on_connect=False)
    except ValueError as error:
        # For example check_hostname set without a server_hostname to check.
        raw.close()
        report._record_error("connect", error)
        return
    with tls:
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            report._record_error("handshake", error)
            return

        report._record_session(tls)
        try:
            tls.sendall(request)
            report.received = tls.recv(1024)
        except (ssl.SSLError, OSError) as error:
            report._record_error("exchange", error)
            return
        if not report.received:
            report._record_error("exchange", ConnectionError("the server closed the connection without a reply"))


def drain_before_close(tls: ssl.SSLSocket) -> None:
    """Read what the peer still sends before closing, so the kernel does not answer it with a reset.

    A reset could reach the peer before the alert this side just sent, and the peer would
    then report "connection reset" instead of the alert.
    """
    try:
        tls.shutdown(socket.SHUT_WR)
        tls.settimeout(1.0)
        while tls.recv(4096):
            pass
    except OSError:
        pass


def _describe_peer(certificate: x509.Certificate | None) -> str:
    if certificate is None:
        return "none"
    names = subject_alt_names(certificate)
    return ", ".join(names) if names else certificate.subject.rfc4514_string()
