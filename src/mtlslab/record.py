"""Record a real mTLS handshake in memory, flight by flight, with its key log.

The recorder connects a client and a server ``ssl.SSLObject`` through ``ssl.MemoryBIO``
pairs and carries the bytes between them itself, so it needs no socket and no
privileges. Every batch of bytes one side writes before waiting for the other is a
flight, kept with its sender and the time it was written. After the handshake the client
sends a request and the server replies. The recording therefore also contains what TLS 1.3
sends after the handshake (NewSessionTicket, or a certificate_required alert). Then both
sides close with close_notify. A failed handshake is recorded as well: the alert that went on
the wire and each side's error.
"""

from __future__ import annotations

import random
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from mtlslab.handshake import LOOPBACK, REQUEST, PeerReport
from mtlslab.packets import Endpoint
from mtlslab.tcpstream import DEFAULT_MSS, Flight, build_connection

# The in-memory connection gets port 443 so that Wireshark and tshark decode it as TLS
# without a "Decode As" rule; no socket is bound to it.
MEMORY_SERVER_PORT = 443
_MAX_ROUNDS = 20


@dataclass
class Transcript:
    """A recorded connection: the flights, the NSS key log and what each peer reported.

    ``client_anchors`` are the CA certificates the client trusts and ``server_anchors`` those
    the server trusts for client certificates; the dissector re-runs both verifications
    with them. ``frames`` contains the captured Ethernet frames when the recording was live; for an
    in-memory recording the frames are built from the flights.
    """

    flights: list[Flight]
    keylog: str
    client: PeerReport
    server: PeerReport
    client_address: Endpoint
    server_address: Endpoint
    server_name: str | None = None
    client_anchors: list[x509.Certificate] = field(default_factory=list)
    server_anchors: list[x509.Certificate] = field(default_factory=list)
    recorder: str = "memory"
    closer: str = "client"
    frames: list[tuple[float, bytes]] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    session: ssl.SSLSession | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when both sides completed the handshake and exchanged a request and a reply."""
        return self.client.ok and self.server.ok

    def pcap_frames(self, mss: int = DEFAULT_MSS) -> list[tuple[float, bytes]]:
        """Return the Ethernet frames of this connection: the captured ones, or ones built from the flights."""
        if self.frames is not None:
            return self.frames
        rng = random.Random(self.client_address[1])
        return build_connection(
            self.flights, self.client_address, self.server_address, mss=mss, closer=self.closer, rng=rng
        )

    def bytes_sent(self, sender: str) -> bytes:
        """Return everything ``sender`` (client or server) wrote, in order."""
        return b"".join(flight.data for flight in self.flights if flight.sender == sender)


class _Peer:
    """One side of the in-memory connection: its SSLObject, BIOs, report and state."""

    def __init__(self, role: str, tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO):
        self.role = role
        self.tls = tls
        self.incoming = incoming
        self.outgoing = outgoing
        self.report = PeerReport(role)
        self.state = "handshake"  # then "done" or "failed"

    def step_handshake(self) -> None:
        if self.state != "handshake":
            return
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            return
        except ssl.SSLError as error:
            self.report._record_error("handshake", error)
            self.state = "failed"
            return
        self.report._record_session(self.tls)
        self.state = "done"


def record_handshake(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    *,
    server_hostname: str | None = "localhost",
    request: bytes = REQUEST,
    client_port: int | None = None,
    session: ssl.SSLSession | None = None,
) -> Transcript:
    """Run one handshake and request-reply exchange in memory and return its transcript.

    The client context's ``keylog_filename`` points to a temporary file while the
    handshake runs and is restored afterwards; the transcript keeps the key log text.
    ``session`` resumes the session of an earlier transcript (its ``session``); the same
    two contexts must be used again.
    """
    with tempfile.TemporaryDirectory(prefix="mtlslab-keylog-") as directory:
        keylog_path = Path(directory) / "keylog.txt"
        previous = client_context.keylog_filename
        client_context.keylog_filename = str(keylog_path)
        try:
            transcript = _record(server_context, client_context, server_hostname, request, client_port, session)
        finally:
            client_context.keylog_filename = previous
        transcript.keylog = keylog_path.read_text(encoding="ascii") if keylog_path.exists() else ""
    return transcript


def _record(server_context, client_context, server_hostname, request, client_port, session) -> Transcript:
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = _Peer(
        "client",
        client_context.wrap_bio(client_in, client_out, server_hostname=server_hostname, session=session),
        client_in,
        client_out,
    )
    server = _Peer("server", server_context.wrap_bio(server_in, server_out, server_side=True), server_in, server_out)
    flights: list[Flight] = []
    peers = {"client": client, "server": server}

    def send(sender: str) -> bool:
        data = peers[sender].outgoing.read()
        if not data:
            return False
        flights.append(Flight(sender, time.time(), data))
        peers["server" if sender == "client" else "client"].incoming.write(data)
        return True

    # Handshake: each side runs until it waits for the other; its output is one flight.
    for _ in range(_MAX_ROUNDS):
        moved = False
        for peer in (client, server):
            was = peer.state
            peer.step_handshake()
            moved |= send(peer.role) or peer.state != was
            if peer is client and was == "handshake" and client.state == "done":
                # A real client sends its request as soon as its handshake completes, before
                # the server has judged the client's certificate (RFC 8446 section 4.4.2).
                _write(client, request, "exchange")
                send("client")
        if not moved or (client.state != "handshake" and server.state != "handshake"):
            break
    if client.state == "handshake" and server.state == "handshake":
        client.report._record_error("handshake", TimeoutError("the handshake made no progress"))

    closer = _exchange(client, server, request, send)
    return Transcript(
        flights=flights,
        keylog="",
        client=client.report,
        server=server.report,
        client_address=(LOOPBACK, client_port or random.randint(49152, 65535)),
        server_address=(LOOPBACK, MEMORY_SERVER_PORT),
        server_name=server_hostname,
        client_anchors=trust_anchors(client_context),
        server_anchors=trust_anchors(server_context),
        closer=closer,
        session=_session(client),
    )


def _exchange(client: _Peer, server: _Peer, request: bytes, send) -> str:
    """Carry the request and the reply, then close; return which side closed the connection first."""
    if server.state == "done":
        received = _read(server, "exchange")
        if received is not None:
            server.report.received = received
            _write(server, b"pong: " + received, "exchange")
        send("server")
    if client.state == "done":
        received = _read(client, "exchange")
        send("client")
        if received is not None:
            client.report.received = received
        elif client.report.error is None:
            client.report._record_error("exchange", ConnectionError("the server closed the connection without a reply"))

    if server.report.error is not None:
        return "server"
    if client.report.error is not None:
        return "client"
    # Orderly closure (RFC 8446 section 6.1): the client sends close_notify, the server replies with its own.
    _unwrap(client)
    send("client")
    _unwrap(server)
    send("server")
    _unwrap(client)
    return "client"


def _session(client: _Peer) -> ssl.SSLSession | None:
    if client.state != "done":
        return None
    try:
        return client.tls.session
    except ValueError:  # OpenSSL has no session to serialize, for example after an alert
        return None


def _write(peer: _Peer, data: bytes, phase: str) -> None:
    try:
        peer.tls.write(data)
    except ssl.SSLError as error:
        peer.report._record_error(phase, error)


def _read(peer: _Peer, phase: str) -> bytes | None:
    try:
        return peer.tls.read(65536)
    except ssl.SSLWantReadError:
        return None
    except ssl.SSLError as error:
        peer.report._record_error(phase, error)
        return None


def _unwrap(peer: _Peer) -> None:
    try:
        peer.tls.unwrap()
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
        pass
    except ssl.SSLError as error:
        peer.report._record_error("close", error)


def trust_anchors(context: ssl.SSLContext) -> list[x509.Certificate]:
    """Return the CA certificates ``context`` trusts."""
    return [x509.load_der_x509_certificate(der) for der in context.get_ca_certs(binary_form=True)]
