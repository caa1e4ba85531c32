"""The outcome of a fault scenario: what each peer reported, the alert, and the stage that failed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mtlslab.alerts import Alert
from mtlslab.handshake import PeerReport
from mtlslab.pki.files import write_file

# Stages 1 to 6 are those of mtlslab.stages.STAGE_TITLES (not imported here because
# that module loads the packet dissector). Stage 0 is a failure before any byte is
# sent: the TLS library rejected the certificate or key while loading it.
STAGE_TITLES = {
    0: "before the handshake (loading the certificate and key)",
    1: "ClientHello",
    2: "ServerHello and server Certificate",
    3: "server verification by the client",
    4: "client Certificate",
    5: "client verification by the server",
    6: "secure channel",
}

# Reasons in Python ssl error texts, as "[SSL: REASON] text".
_CLIENT_HELLO_REJECTED = ("HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL")
_NO_SERVER_HELLO = ("WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE")
_NO_SERVER_SIGNATURE = ("NO_SUITABLE_SIGNATURE_ALGORITHM", "NO_SHARED_CIPHER", "NO_SHARED_SIGNATURE_ALGORITHMS")


@dataclass(frozen=True)
class DiagnoseInputs:
    """The files an engineer would hand to ``mtlslab diagnose`` for a scenario, and its options."""

    cert: bytes | None = None
    key: bytes | None = None
    ca: bytes | None = None
    crl: bytes | None = None
    served: bytes | None = None
    role: str | None = None
    name: str | None = None

    def write(self, directory: str | os.PathLike) -> list[str]:
        """Write the files to ``directory`` and return the ``mtlslab diagnose`` arguments that use them."""
        directory = Path(directory)
        arguments: list[str] = []
        files = (
            ("--cert", "cert.pem", self.cert, False),
            ("--key", "key.pem", self.key, True),
            ("--ca", "ca.pem", self.ca, False),
            ("--crl", "crl.pem", self.crl, False),
            ("--served", "served.pem", self.served, False),
        )
        for option, name, data, private in files:
            if data is not None:
                arguments += [option, str(write_file(directory / name, data, private=private))]
        if self.role:
            arguments += ["--as", self.role]
        if self.name:
            arguments += ["--name", self.name]
        return arguments


@dataclass(frozen=True)
class FaultResult:
    """What a fault scenario produced in a real handshake on loopback.

    ``alert`` is the alert that one peer received (None when no alert went on the
    wire, as when a plaintext peer is involved); ``alert_receiver`` names that peer.
    ``stage`` is deduced from the peers' reports by :func:`stage_of`.
    """

    scenario: str
    finding: str
    client: PeerReport
    server: PeerReport
    stage: int
    alert: Alert | None = None
    alert_receiver: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def stage_title(self) -> str:
        """The name of the stage where the connection stopped."""
        return STAGE_TITLES[self.stage]

    def __str__(self) -> str:
        lines = [
            f"scenario {self.scenario}: stopped at stage {self.stage} ({self.stage_title})",
            f"  {self.client}",
            f"  {self.server}",
        ]
        if self.alert is not None:
            lines.append(f"  alert received by the {self.alert_receiver}: {self.alert}")
        else:
            lines.append("  no alert on the wire")
        lines.append(f"  diagnose finding: {self.finding}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def stage_of(client: PeerReport, server: PeerReport) -> int:
    """Deduce the handshake stage at which a connection stopped from both peers' reports.

    A failure while loading a certificate is stage 0. Otherwise the first peer that
    rejected something decides: the server failing to parse a ClientHello is stage 1,
    the client receiving no ServerHello or the server finding no signature for its
    certificate is stage 2, and the client rejecting the server's certificate is stage 3.
    The server rejecting the client's certificate is stage 5, and so is a client that
    sent an empty Certificate message: the client completed stage 4, and the server,
    verifying it, refuses the missing certificate (TLS 1.3 alert certificate_required
    (116), TLS 1.2 handshake_failure (40)), as :mod:`mtlslab.stages` records it. A connection that got past all of these
    stopped, if at all, in the secure channel (stage 6).
    """
    if "configuration" in (client.error_phase, server.error_phase):
        return 0
    server_reason = _reason(server)
    client_reason = _reason(client)
    if server.error_phase == "handshake" and server_reason in _CLIENT_HELLO_REJECTED:
        return 1
    if server_reason in _NO_SERVER_SIGNATURE:
        return 2
    if client.error_phase == "handshake" and client_reason in _NO_SERVER_HELLO and not server.error:
        return 2
    if client.error_phase == "identity check" or (
        client.error_phase == "handshake" and client_reason == "CERTIFICATE_VERIFY_FAILED"
    ):
        return 3
    if server_reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return 5
    if server.error_phase == "identity check" or server_reason == "CERTIFICATE_VERIFY_FAILED":
        return 5
    return 6


def _reason(report: PeerReport) -> str | None:
    """Return the OpenSSL reason in brackets at the start of an ssl error text, e.g. CERTIFICATE_VERIFY_FAILED."""
    if not report.error or not report.error.startswith("["):
        return None
    tag = report.error[1:report.error.find("]")]
    return tag.split(": ", 1)[-1]
