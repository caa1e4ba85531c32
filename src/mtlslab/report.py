"""Dissect a capture or a recorded transcript into per-connection stage reports, as text or JSON."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography import x509

from mtlslab.dissect import dissect_connection
from mtlslab.errors import InputError
from mtlslab.pcap import Capture, Frame, parse_capture, read_capture
from mtlslab.record import Transcript
from mtlslab.stages import ConnectionStages, map_stages
from mtlslab.tcpstream import reassemble
from mtlslab.tls.keylog import KeyLog, load_keylog
from mtlslab.tls.wire import looks_like_tls


@dataclass
class CaptureReport:
    """The stage reports of every TLS connection in a capture, and notes about the capture itself."""

    source: str
    keylog: str | None
    connections: list[ConnectionStages] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """Return the report as JSON-ready data: per connection, each stage with its messages and alert."""
        return {
            "capture": self.source,
            "keylog": self.keylog,
            "connections": [_connection_json(number, c) for number, c in enumerate(self.connections, start=1)],
            "problems": self.problems,
        }

    def __str__(self) -> str:
        return format_report(self)


def analyze_capture(
    path: str | os.PathLike,
    keylog_path: str | os.PathLike | None = None,
    anchors: list[x509.Certificate] | None = None,
) -> CaptureReport:
    """Dissect every TLS connection in the pcap or pcapng file at ``path``.

    ``keylog_path`` names an NSS key log for decryption; ``anchors`` are CA certificates
    to re-verify both peers' chains with. Raises InputError when the file is not a capture
    or contains no TLS.
    """
    keylog = load_keylog(keylog_path) if keylog_path is not None else None
    capture = read_capture(path)
    return analyze_frames(capture, str(path), keylog, anchors=anchors)


def analyze_capture_bytes(data: bytes, keylog_text: str | None = None, source: str = "capture") -> CaptureReport:
    """Dissect a capture held in memory; see :func:`analyze_capture`."""
    keylog = KeyLog.parse(keylog_text) if keylog_text is not None else None
    return analyze_frames(parse_capture(data, source), source, keylog)


def analyze_frames(
    capture: Capture,
    source: str,
    keylog: KeyLog | None,
    *,
    anchors: list[x509.Certificate] | None = None,
    transcript: Transcript | None = None,
    strict: bool = False,
) -> CaptureReport:
    """Dissect the TLS connections among a capture's frames.

    A connection whose dissection raises an unexpected error is listed in the report's
    problems and skipped, unless ``strict`` is set, which re-raises the error for debugging.
    """
    report = CaptureReport(source, keylog.source if keylog else None, problems=list(capture.problems))
    connections, notes = reassemble(capture.frames)
    report.problems.extend(notes)
    silent = 0
    for connection in connections:
        client_data, server_data = connection.client_stream.data, connection.server_stream.data
        if not client_data and not server_data:
            silent += 1
            continue
        if not looks_like_tls(client_data) and not looks_like_tls(server_data):
            first = (client_data or server_data)[:8]
            report.problems.append(
                f"the connection {_endpoint(connection.client)} -> {_endpoint(connection.server)} carries no TLS "
                f"(it starts with {first!r}) and was skipped"
            )
            continue
        try:
            report.connections.append(_stages_of(connection, keylog, anchors, transcript))
        except Exception as error:  # a dissector records what it cannot read and goes on
            if strict:
                raise
            report.problems.append(
                f"the connection {_endpoint(connection.client)} -> {_endpoint(connection.server)} could not be "
                f"dissected ({type(error).__name__}: {error}); call analyze_frames with strict=True to debug"
            )
    if not report.connections:
        detail = "; ".join(report.problems[:2])
        raise InputError(
            f"{source} contains no TLS connection ({len(capture.frames)} packets, {len(connections)} TCP connections"
            f"{', ' + str(silent) + ' without data' if silent else ''}){': ' + detail if detail else ''}"
        )
    return report


def _stages_of(connection, keylog, anchors, transcript) -> ConnectionStages:
    dissection = dissect_connection(connection, keylog)
    if transcript is None:
        return map_stages(dissection, client_anchors=anchors, server_anchors=anchors)
    return map_stages(
        dissection,
        client_anchors=transcript.client_anchors,
        server_anchors=transcript.server_anchors,
        server_name=transcript.server_name,
        peer_reports={"client": transcript.client, "server": transcript.server},
    )


def analyze_transcript(transcript: Transcript) -> CaptureReport:
    """Dissect a recorded transcript through the same pcap frames that :func:`write_capture_files` writes."""
    frames = [Frame(number, time, 1, data) for number, (time, data) in enumerate(transcript.pcap_frames(), start=1)]
    keylog = KeyLog.parse(transcript.keylog, source="keylog.txt") if transcript.keylog.strip() else None
    return analyze_frames(Capture(frames), "handshake.pcap", keylog, transcript=transcript)


def _endpoint(endpoint) -> str:
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Message details worth showing; randoms and offered lists are left out to keep the output short.
_SHOWN_DETAILS = ("server_name", "version", "cipher_suite", "certificates", "signature_scheme", "group")


def _message_json(message) -> dict:
    data = {
        "name": message.name,
        "direction": message.direction,
        "record": message.record,
        "frame": message.frame,
        "encrypted": message.encrypted,
    }
    if not message.decrypted:
        data["decrypted"] = False
    details = {key: message.details[key] for key in _SHOWN_DETAILS if key in message.details}
    if details:
        data["details"] = details
    if message.name == "Alert" and message.decrypted:
        data["alert"] = {"name": message.parsed.name, "code": message.parsed.code, "level": message.details.get("level")}
    return data


def _alert_json(event) -> dict | None:
    if event is None:
        return None
    return {
        "name": event.alert.name if event.alert else None,
        "code": event.alert.code if event.alert else None,
        "level": event.level,
        "sender": event.sender,
        "direction": f"{event.sender} -> {'server' if event.sender == 'client' else 'client'}",
        "record": event.record,
        "frame": event.frame,
        "stage": event.stage,
    }


def _connection_json(number: int, result: ConnectionStages) -> dict:
    dissection = result.dissection
    return {
        "connection": number,
        "client": _endpoint(dissection.client),
        "server": _endpoint(dissection.server),
        "tls_version": dissection.version_name,
        "cipher_suite": dissection.suite_name,
        "server_name": dissection.server_name,
        "decryption": dissection.decryption,
        "handshake": result.handshake,
        "outcome": result.outcome,
        "stopped_at_stage": result.stopped_at,
        "alerts": [_alert_json(event) for event in result.alerts],
        "stages": [
            {
                "stage": stage.number,
                "title": stage.title,
                "status": stage.status,
                "messages": [_message_json(message) for message in stage.messages],
                "alert": _alert_json(stage.alert),
                "evidence": [
                    {"check": check.name, "result": check.result, "detail": check.detail} for check in stage.evidence
                ],
                "notes": stage.notes,
            }
            for stage in result.stages
        ],
        "undecrypted_records": [
            {"direction": m.direction, "record": m.record, "frame": m.frame, "length": m.details.get("length")}
            for m in result.undecrypted
        ],
        "peers": result.peers,
        "problems": dissection.problems,
    }


def format_report(report: CaptureReport) -> str:
    """Render a capture report as text for a terminal."""
    lines = []
    for number, result in enumerate(report.connections, start=1):
        if number > 1:
            lines.append("")
        lines.extend(_connection_lines(number, result))
    if report.problems:
        lines.append("")
        lines.append("Capture notes:")
        lines.extend(f"  - {problem}" for problem in report.problems)
    return "\n".join(lines)


def _connection_lines(number: int, result: ConnectionStages) -> list[str]:
    dissection = result.dissection
    version = dissection.version_name or "version unknown"
    suite = dissection.suite_name or "cipher suite unknown"
    lines = [
        f"Connection {number}: {_endpoint(dissection.client)} -> {_endpoint(dissection.server)}, {version}, {suite}",
        f"  decryption: {dissection.decryption}",
    ]
    for stage in result.stages:
        lines.append(f"  Stage {stage.number}, {stage.title}: {stage.status}")
        for message in stage.messages:
            label = message.name
            if message.name == "Alert" and message.decrypted:
                label = f"Alert {message.parsed} ({message.details.get('level')})"
            elif not message.decrypted:
                label += " (not decrypted)"
            elif "certificates" in message.details:
                label += f": {'; '.join(message.details['certificates']) or 'no certificate'}"
            frame = f", frame {message.frame}" if message.frame is not None else ""
            lines.append(f"    record {message.record:>3}{frame}  {message.direction}  {label}")
        lines.extend(f"    check: {check}" for check in stage.evidence)
        lines.extend(f"    note: {note}" for note in stage.notes)
    if result.undecrypted:
        numbers = ", ".join(str(m.record) for m in result.undecrypted)
        lines.append(f"  records not decrypted: {numbers}")
    lines.append(f"  outcome: {result.outcome}")
    lines.extend(f"  problem: {problem}" for problem in dissection.problems)
    return lines
