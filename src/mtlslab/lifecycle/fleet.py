"""A server and a fleet of client workloads on loopback, whose certificates change step by step.

After each step every workload connects a fixed number of times, and the fleet counts
the handshakes that succeeded and failed. Fixed rounds instead of free-running client
threads keep the counts exact, so tests can assert them.
"""

from __future__ import annotations

import collections
import socket
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.lifecycle.server import FileServer, ServerFiles
from mtlslab.pki.authority import Credential
from mtlslab.pki.contexts import client_context
from mtlslab.pki.files import write_file

LOOPBACK = "127.0.0.1"


@dataclass
class StepResult:
    """Handshake counts for one step of a rotation."""

    step: str
    succeeded: int = 0
    failed: int = 0
    failed_by_workload: dict[str, int] = field(default_factory=dict)
    errors: collections.Counter = field(default_factory=collections.Counter)

    def __str__(self) -> str:
        text = f"{self.step:<50} ok {self.succeeded:>3}  failed {self.failed:>3}"
        if self.failed_by_workload:
            text += "  (" + ", ".join(f"{name}: {count}" for name, count in sorted(self.failed_by_workload.items())) + ")"
        return text


@dataclass
class Workload:
    """A client workload: its certificate and the trust anchors it verifies the server with."""

    name: str
    credential: Credential
    trust: list[x509.Certificate]


class Fleet:
    """A file-serving mTLS server and client workloads, driven step by step."""

    def __init__(self, directory: Path, server: Credential, server_trust: list[x509.Certificate], *, reload: bool = True):
        self.directory = Path(directory)
        self.files = ServerFiles(self.directory / "server-chain.pem", self.directory / "server-key.pem", self.directory / "trust.pem")
        self.workloads: dict[str, Workload] = {}
        self.results: list[StepResult] = []
        self.set_server(server, server_trust)
        self.server = FileServer(self.files, reload=reload)

    def __enter__(self) -> Fleet:
        self.server.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.__exit__(*exc_info)

    def set_server(self, credential: Credential | None = None, trust: list[x509.Certificate] | None = None) -> None:
        """Write a new server certificate, chain and key, or a new trust bundle, to the server's files."""
        if credential is not None:
            write_file(self.files.chain, credential.chain_pem)
            write_file(self.files.key, credential.private_key_pem(), private=True)
        if trust is not None:
            write_file(self.files.trust, _bundle(trust))

    def add_workload(self, name: str, credential: Credential, trust: list[x509.Certificate]) -> None:
        """Add a client workload, or replace one of the same name."""
        self.workloads[name] = Workload(name, credential, trust)

    def update_workload(self, name: str, credential: Credential | None = None, trust: list[x509.Certificate] | None = None) -> None:
        """Give a workload a new certificate, a new trust bundle, or both."""
        workload = self.workloads[name]
        if credential is not None:
            workload.credential = credential
        if trust is not None:
            workload.trust = trust

    def run_round(self, step: str, handshakes_per_workload: int = 5) -> StepResult:
        """Connect every workload ``handshakes_per_workload`` times and record the counts under ``step``."""
        result = StepResult(step)
        for workload in self.workloads.values():
            context = client_context(workload.trust, workload.credential)
            for _ in range(handshakes_per_workload):
                error = _connect(self.server.port, context)
                if error is None:
                    result.succeeded += 1
                    continue
                result.failed += 1
                result.failed_by_workload[workload.name] = result.failed_by_workload.get(workload.name, 0) + 1
                result.errors[error] += 1
        self.results.append(result)
        return result


def _bundle(anchors: list[x509.Certificate]) -> bytes:
    return b"".join(anchor.public_bytes(serialization.Encoding.PEM) for anchor in anchors)


def _connect(port: int, context) -> str | None:
    """Run one handshake and request; return None on success or the error text."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"hello")
                if tls.recv(16) != b"ok":
                    return "the server closed the connection without a reply"
    except (OSError, ValueError) as error:
        reason = getattr(error, "verify_message", None) or getattr(error, "reason", None)
        return reason or type(error).__name__
    return None
