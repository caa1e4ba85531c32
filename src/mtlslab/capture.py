"""Record one mTLS handshake with a fresh PKI and write handshake.pcap, keylog.txt and stages.json."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mtlslab.errors import InputError
from mtlslab.live import record
from mtlslab.pki import CertificateAuthority, client_context, server_context
from mtlslab.pki.demo import CLIENT_SPIFFE_ID, SERVER_SPIFFE_ID
from mtlslab.pki.files import write_file
from mtlslab.pcap import write_capture
from mtlslab.record import Transcript
from mtlslab.report import CaptureReport, analyze_transcript

@dataclass
class CaptureResult:
    """A recorded handshake, its stage report and the files written."""

    transcript: Transcript
    report: CaptureReport
    paths: dict[str, Path]


def demo_contexts(tls_version: str | None = "1.3"):
    """Build a fresh root, intermediate, server and client, and return (server context, client context) for mTLS."""
    root = CertificateAuthority.create_root()
    intermediate = root.create_intermediate()
    server = intermediate.issue_server("localhost", uris=(SERVER_SPIFFE_ID,))
    client = intermediate.issue_client("client", spiffe_id=CLIENT_SPIFFE_ID)
    return (
        server_context(server, root, tls_version=tls_version),
        client_context(root, client, tls_version=tls_version),
    )


def write_capture_files(transcript: Transcript, directory: str | os.PathLike) -> tuple[CaptureReport, dict[str, Path]]:
    """Write the transcript's frames, key log and stage report to ``directory``; return the report and paths.

    The key log contains the secrets that decrypt the connection, so it is readable by its owner only.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is a file: pass a directory for the capture files")
    report = analyze_transcript(transcript)
    paths = {
        "handshake.pcap": write_capture(directory / "handshake.pcap", transcript.pcap_frames()),
        "keylog.txt": write_file(directory / "keylog.txt", transcript.keylog.encode("ascii"), private=True),
        "stages.json": write_file(directory / "stages.json", (json.dumps(report.to_json(), indent=2) + "\n").encode()),
    }
    return report, paths


def capture(directory: str | os.PathLike, tls_version: str = "1.3", live: bool = False) -> CaptureResult:
    """Record one mTLS handshake between a fresh client and server, and write the capture files to ``directory``."""
    server, client = demo_contexts(tls_version)
    transcript = record(server, client, live=live)
    report, paths = write_capture_files(transcript, directory)
    return CaptureResult(transcript, report, paths)
