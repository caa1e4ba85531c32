"""Verdicts of recorded handshakes: the stage where each stopped, the alert on the wire and each side's error.

A verdict joins two views of one connection. The wire view comes from the dissected
capture: the stage that failed and the alert's RFC name, code, sender and protection.
The peers' view comes from Python's ``ssl`` module on each side: the exception each peer
raised and when. :func:`verdict_table` and :func:`error_summary` line up several verdicts
for comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mtlslab.alerts import Alert
from mtlslab.handshake import PeerReport
from mtlslab.record import Transcript
from mtlslab.report import analyze_transcript
from mtlslab.stages import STAGE_TITLES, ConnectionStages

_SSL_REASON = re.compile(r"^\[SSL: [A-Z0-9_]+\] ")


@dataclass(frozen=True)
class HandshakeVerdict:
    """The stage where a recorded handshake stopped, the alert that went on the wire, and what each peer raised."""

    tls_version: str | None
    handshake: str
    stage: int | None
    alert: Alert | None
    alert_level: str | None
    alert_sender: str | None
    alert_encrypted: bool | None
    client: PeerReport
    server: PeerReport

    @property
    def stage_title(self) -> str | None:
        return STAGE_TITLES[self.stage] if self.stage is not None else None

    def __str__(self) -> str:
        version = self.tls_version or "TLS"
        if self.stage is None:
            lines = [f"{version}: handshake {self.handshake}"]
        else:
            lines = [f"{version}: stopped at stage {self.stage} ({self.stage_title})"]
        if self.alert is not None:
            protection = "encrypted" if self.alert_encrypted else "in clear"
            lines.append(
                f"alert on the wire: {self.alert}, {self.alert_level}, sent by the {self.alert_sender}, {protection}"
            )
        elif self.alert_sender is not None:
            lines.append(f"alert on the wire: not decrypted, sent by the {self.alert_sender}")
        else:
            lines.append("alert on the wire: none")
        lines.append(str(self.client))
        lines.append(str(self.server))
        return "\n".join(lines)


def verdict_of(transcript: Transcript, result: ConnectionStages | None = None) -> HandshakeVerdict:
    """Return the verdict of a recorded handshake; ``result`` is its stage report when already computed."""
    if result is None:
        result = analyze_transcript(transcript).connections[0]
    fatal = next((event for event in result.alerts if event.fatal), None)
    encrypted = None
    if fatal is not None:
        message = next((m for m in result.dissection.messages if m.record == fatal.record and m.name == "Alert"), None)
        encrypted = message.encrypted if message is not None else None
    return HandshakeVerdict(
        tls_version=result.dissection.version_name,
        handshake=result.handshake,
        stage=result.stopped_at,
        alert=fatal.alert if fatal else None,
        alert_level=fatal.level if fatal else None,
        alert_sender=fatal.sender if fatal else None,
        alert_encrypted=encrypted,
        client=transcript.client,
        server=transcript.server,
    )


def short_error(report: PeerReport) -> str:
    """Return the reason part of a peer's error, without OpenSSL's bracketed code; ``OK`` for no error."""
    if report.error is None:
        return "OK"
    text = _SSL_REASON.sub("", report.error).removeprefix("certificate verify failed: ")
    if report.handshake_completed and report.error_phase == "exchange":
        text += " (in the exchange, after its handshake completed)"
    return text


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict_table(rows: Iterable[tuple[str, HandshakeVerdict]]) -> str:
    """Return a text table of the wire view: per named verdict, version, stage, alert, sender and protection."""
    header = ("fault", "TLS", "stops at", "alert on the wire", "sent by", "protection")
    body = []
    for name, verdict in rows:
        stage = f"stage {verdict.stage}" if verdict.stage is not None else verdict.handshake
        alert = str(verdict.alert) if verdict.alert is not None else "-"
        protection = "-"
        if verdict.alert_encrypted is not None:
            protection = "encrypted" if verdict.alert_encrypted else "in clear"
        version = (verdict.tls_version or "?").removeprefix("TLS ")
        body.append((name, version, stage, alert, verdict.alert_sender or "-", protection))
    return _table(header, body)


def error_summary(rows: Iterable[tuple[str, HandshakeVerdict]]) -> str:
    """Return the peers' view of named verdicts: per verdict, the error the client and the server raised."""
    lines = []
    for name, verdict in rows:
        lines.append(f"{name} ({verdict.tls_version or 'TLS version unknown'})")
        lines.append(f"  client: {short_error(verdict.client)}")
        lines.append(f"  server: {short_error(verdict.server)}")
    return "\n".join(lines)
