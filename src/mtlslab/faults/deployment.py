"""Both peers of an mTLS connection as files on disk, laid out like mounted Kubernetes TLS Secrets.

::

    DIRECTORY/server/tls.crt   the server's certificate followed by its intermediates
    DIRECTORY/server/tls.key   its private key, readable by its owner only (mode 0600)
    DIRECTORY/server/ca.crt    the CA certificates it trusts to verify client certificates
    DIRECTORY/server/crl.pem   optional: CRLs it checks client certificates against
    DIRECTORY/client/...       the same for the client, whose ca.crt verifies the server

A ``kubernetes.io/tls`` Secret mounted as a volume gives a pod the same file names, so
:meth:`Deployment.write_secret` and :meth:`Deployment.mount_secret` move one peer's
files into and out of a Secret manifest. :meth:`Deployment.handshake` loads the files
as a server and a client load them at start-up and connects the two on loopback, and
:meth:`Deployment.diagnose` runs ``mtlslab diagnose`` on one peer's files. A fault
scenario writes its files with :func:`write_deployment`, so that a caller can diagnose
them, repair them and prove the repair with a handshake.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shlex
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.diagnose.checks import Report, diagnose_setup
from mtlslab.diagnose.command import add_diagnose_commands, build_setup
from mtlslab.diagnose.findings import ERROR
from mtlslab.diagnose.inputs import read_secret
from mtlslab.errors import InputError
from mtlslab.faults.catalog import Peers
from mtlslab.faults.peers import record_error
from mtlslab.faults.result import STAGE_TITLES, FaultResult, stage_of
from mtlslab.handshake import DEFAULT_TIMEOUT, HandshakeResult, PeerReport, run_handshake
from mtlslab.pki.authority import Credential
from mtlslab.pki.contexts import TLS_VERSIONS
from mtlslab.pki.crl import crl_pem
from mtlslab.pki.files import write_file

ROLES = ("server", "client")
CERTIFICATE_FILE, KEY_FILE, TRUST_FILE, CRL_FILE = "tls.crt", "tls.key", "ca.crt", "crl.pem"
SECRET_KEYS = (CERTIFICATE_FILE, KEY_FILE, TRUST_FILE)

# Kubernetes object names are DNS-1123 subdomains: lowercase alphanumerics, "-" and ".",
# starting and ending with an alphanumeric, at most 253 characters.
_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MAX_OBJECT_NAME = 253


@dataclass(frozen=True)
class Deployment:
    """The files of an mTLS server and client under ``directory``, and how the client connects.

    ``server_name`` is the name the client connects to and checks the server's
    certificate against. ``tls_version`` pins both peers to "1.2" or "1.3" (None lets
    them negotiate). ``hostname_checks_common_name`` False makes the client ignore the
    subject's common name as Go 1.15 and later and browsers do; Python's default, True,
    falls back to it when the certificate has no subjectAltName DNS name.
    """

    directory: Path
    server_name: str = "localhost"
    tls_version: str | None = None
    hostname_checks_common_name: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        if self.tls_version is not None and self.tls_version not in TLS_VERSIONS:
            raise InputError(f"unsupported TLS version {self.tls_version!r}: use 1.2 or 1.3")

    @property
    def server(self) -> Path:
        """The server's folder."""
        return self.folder("server")

    @property
    def client(self) -> Path:
        """The client's folder."""
        return self.folder("client")

    def folder(self, role: str) -> Path:
        """Return the folder of ``role``, "server" or "client"."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}: use server or client")
        return self.directory / role

    def files(self) -> list[str]:
        """List the files of both peers, relative to ``directory``."""
        return sorted(path.relative_to(self.directory).as_posix() for path in self.directory.glob("*/*") if path.is_file())

    def write(
        self,
        role: str,
        *,
        credential: Credential | None = None,
        trust=None,
        crls: Iterable[x509.CertificateRevocationList] | None = None,
    ) -> None:
        """Write the given parts of a peer's files and leave the others as they are.

        ``credential`` replaces tls.crt (the certificate and its chain) and tls.key.
        ``trust`` replaces ca.crt: a CA, a certificate, PEM bytes, or a list of CAs and
        certificates. ``crls`` replaces crl.pem; an empty list removes it.
        """
        folder = self.folder(role)
        if credential is not None:
            write_file(folder / CERTIFICATE_FILE, credential.chain_pem)
            write_file(folder / KEY_FILE, credential.private_key_pem(), private=True)
        if trust is not None:
            write_file(folder / TRUST_FILE, trust_pem(trust))
        if crls is not None:
            crls = list(crls)
            if crls:
                write_file(folder / CRL_FILE, b"".join(crl_pem(crl) for crl in crls))
            else:
                (folder / CRL_FILE).unlink(missing_ok=True)

    def remove_credential(self, role: str) -> None:
        """Delete a peer's tls.crt and tls.key, as for a client configured without a certificate."""
        for name in (CERTIFICATE_FILE, KEY_FILE):
            (self.folder(role) / name).unlink(missing_ok=True)

    def handshake(self, *, tls_version: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> HandshakeResult:
        """Load both peers' files and connect the client to the server on loopback.

        Each peer loads its files the way a TLS server or client does at start-up, at
        OpenSSL's default security level. A peer may reject its own certificate or key
        while loading them, for example a key that belongs to another certificate or a
        key or signature below the security level. Its report then records a failure in
        the "configuration" phase, and no connection is made. ``tls_version`` overrides
        the deployment's version for this handshake.
        """
        version = tls_version or self.tls_version
        result = HandshakeResult()
        contexts = {}
        for role in ROLES:
            try:
                contexts[role] = self._load_context(role, version)
            except ssl.SSLError as error:
                record_error(getattr(result, role), "configuration", error)
        if len(contexts) < len(ROLES):
            return result
        return run_handshake(contexts["server"], contexts["client"], server_hostname=self.server_name, timeout=timeout)

    def diagnose_arguments(self, role: str, *, absolute: bool = False) -> list[str]:
        """Return the ``mtlslab diagnose`` arguments that check ``role``'s files against its peer's trust.

        The certificate is checked against the trust bundle (and CRLs) of the peer that
        verifies it: a server's tls.crt against the client's ca.crt, and a client's
        against the server's. Paths are relative to ``directory`` unless ``absolute``.
        """
        peer = "client" if role == "server" else "server"
        base = self.directory if absolute else Path()
        folder, peer_folder = self.folder(role), self.folder(peer)
        arguments = []
        if (folder / CERTIFICATE_FILE).exists():
            arguments += ["--cert", str(base / role / CERTIFICATE_FILE)]
            if (folder / KEY_FILE).exists():
                arguments += ["--key", str(base / role / KEY_FILE)]
        if (peer_folder / TRUST_FILE).exists():
            arguments += ["--ca", str(base / peer / TRUST_FILE)]
        if (peer_folder / CRL_FILE).exists():
            arguments += ["--crl", str(base / peer / CRL_FILE)]
        arguments += ["--as", role]
        if role == "server":
            arguments += ["--name", self.server_name]
        return arguments

    def diagnose_command(self, role: str) -> str:
        """Return the ``mtlslab diagnose`` command line for ``role``, to run in ``directory``."""
        return shlex.join(["mtlslab", "diagnose", *self.diagnose_arguments(role)])

    def diagnose(self, role: str) -> Report:
        """Run the checks of ``mtlslab diagnose`` on ``role``'s files and return the report."""
        parser = argparse.ArgumentParser(prog="mtlslab")
        add_diagnose_commands(parser.add_subparsers())
        arguments = parser.parse_args(["diagnose", *self.diagnose_arguments(role, absolute=True)])
        return diagnose_setup(build_setup(arguments))

    def problems(self) -> list[str]:
        """Return what is still wrong: a failed handshake, then each error finding of either peer's files.

        An empty list means that the handshake succeeded and ``mtlslab diagnose``
        reports no error for the server or the client (warnings do not count).
        """
        found = []
        result = self.handshake()
        if not result.ok:
            found.append(format_outcome(result))
        for role in ROLES:
            for finding in self.diagnose(role).findings:
                if finding.severity == ERROR:
                    found.append(f"{role}: {finding.id}: {finding.message}")
        return found

    def secret_manifest(self, role: str, name: str, *, namespace: str | None = None) -> str:
        """Return ``role``'s tls.crt, tls.key and ca.crt as a kubernetes.io/tls Secret in YAML.

        The manifest has the form that ``kubectl get secret NAME -o yaml`` prints, with
        each file base64-encoded under ``data``. It contains the private key.
        """
        _validate_object_name(name, "Secret name")
        if namespace is not None:
            _validate_object_name(namespace, "namespace")
        folder = self.folder(role)
        data = {}
        for key in SECRET_KEYS:
            path = folder / key
            if path.exists():
                data[key] = base64.b64encode(path.read_bytes()).decode("ascii")
        if CERTIFICATE_FILE not in data or KEY_FILE not in data:
            raise InputError(f"{folder} has no tls.crt and tls.key: a kubernetes.io/tls Secret needs both")
        metadata = {"name": name}
        if namespace is not None:
            metadata["namespace"] = namespace
        document = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "kubernetes.io/tls", "data": data}
        # PyYAML takes tens of milliseconds to import; only Secret manifests need it.
        import yaml

        return yaml.safe_dump(document, sort_keys=False)

    def write_secret(self, role: str, path: str | os.PathLike, name: str, *, namespace: str | None = None) -> Path:
        """Write :meth:`secret_manifest` to ``path``, readable by its owner only because it contains a private key."""
        return write_file(path, self.secret_manifest(role, name, namespace=namespace).encode(), private=True)

    def mount_secret(self, role: str, path: str | os.PathLike) -> None:
        """Replace ``role``'s files with the tls.crt, tls.key and ca.crt of the Secret manifest at ``path``.

        A Secret mounted as a volume shows each of its keys as a file of that name;
        keys other than these three are not written.
        """
        secret_name, values = read_secret(path)
        missing = [key for key in (CERTIFICATE_FILE, KEY_FILE) if key not in values]
        if missing:
            raise InputError(f"Secret {secret_name} in {path} has no {' or '.join(missing)}: a kubernetes.io/tls Secret needs both")
        folder = self.folder(role)
        write_file(folder / CERTIFICATE_FILE, values[CERTIFICATE_FILE])
        write_file(folder / KEY_FILE, values[KEY_FILE], private=True)
        if TRUST_FILE in values:
            write_file(folder / TRUST_FILE, values[TRUST_FILE])

    def _load_context(self, role: str, tls_version: str | None) -> ssl.SSLContext:
        folder = self.folder(role)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if role == "server" else ssl.PROTOCOL_TLS_CLIENT)
        if tls_version is None:
            context.minimum_version = ssl.TLSVersion.TLSv1_2
        elif tls_version in TLS_VERSIONS:
            context.minimum_version = context.maximum_version = TLS_VERSIONS[tls_version]
        else:
            raise InputError(f"unsupported TLS version {tls_version!r}: use 1.2 or 1.3")

        certificate, key = folder / CERTIFICATE_FILE, folder / KEY_FILE
        if certificate.exists():
            if not key.exists():
                raise InputError(f"{key}: no such file; write the private key that belongs to {certificate}")
            context.load_cert_chain(certificate, key)
        elif role == "server":
            raise InputError(f"{certificate}: no such file; a TLS server needs a certificate")

        trust = folder / TRUST_FILE
        if not trust.exists():
            raise InputError(f"{trust}: no such file; write the CA certificates that the {role} trusts")
        context.load_verify_locations(cafile=trust)
        context.verify_mode = ssl.CERT_REQUIRED
        if role == "client":
            context.hostname_checks_common_name = self.hostname_checks_common_name

        crls = folder / CRL_FILE
        if crls.exists():
            # The ssl module reads CRLs from the same files as CA certificates.
            context.load_verify_locations(cafile=crls)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        return context


def write_deployment(directory: str | os.PathLike, peers: Peers) -> Deployment:
    """Write the files of a fault scenario's peers (``FaultSetup.peers``) to ``directory``.

    The CRLs go to the peer that verifies the faulty side. A scenario that lowers the
    faulty peer's security level has no counterpart here: its files fail to load at
    the default level, one stage earlier than the scenario's handshake.
    """
    deployment = Deployment(Path(directory), peers.server_name, peers.tls_version, peers.hostname_checks_common_name)
    deployment.write("server", credential=peers.server, trust=peers.server_trust)
    deployment.write("client", credential=peers.client, trust=peers.client_trust)
    if peers.client is None:
        deployment.remove_credential("client")
    if peers.crls:
        verifier = "client" if peers.faulty_side == "server" else "server"
        deployment.write(verifier, crls=peers.crls)
    return deployment


def trust_pem(trust) -> bytes:
    """Return the PEM bundle of ``trust``: a CA or credential, a certificate, PEM bytes, or a list of these."""
    if isinstance(trust, bytes):
        return trust
    items = [trust] if isinstance(trust, (Credential, x509.Certificate)) else list(trust)
    if not items:
        raise InputError("the trust bundle is empty: pass at least one CA certificate")
    pem = b""
    for item in items:
        if isinstance(item, bytes):
            pem += item
            continue
        certificate = item.certificate if isinstance(item, Credential) else item
        pem += certificate.public_bytes(serialization.Encoding.PEM)
    return pem


def format_outcome(result: HandshakeResult | FaultResult) -> str:
    """Format a handshake as an engineer reads it: the stage where it stopped, both sides' reports and the alert."""
    ok = result.client.ok and result.server.ok
    if ok:
        lines = ["handshake completed and the request was answered"]
    else:
        stage = stage_of(result.client, result.server)
        lines = [f"stopped at stage {stage}: {STAGE_TITLES[stage]}"]
    for report, other in ((result.client, result.server), (result.server, result.client)):
        lines.append(f"  {_describe_report(report, other)}")
    if ok:
        return "\n".join(lines)
    alerts = [report for report in (result.client, result.server) if report.alert_received is not None]
    if alerts:
        lines += [f"  alert received by the {report.role}: {report.alert_received}" for report in alerts]
    else:
        lines.append("  no alert on the wire")
    return "\n".join(lines)


def _describe_report(report: PeerReport, other: PeerReport) -> str:
    if report.error is None and not report.handshake_completed:
        if other.error_phase == "configuration":
            return f"{report.role}: no connection, because the {other.role} could not load its certificate and key"
        return f"{report.role}: did not connect"
    return str(report)


def _validate_object_name(name: str, label: str) -> None:
    if len(name) > _MAX_OBJECT_NAME or not _OBJECT_NAME.match(name):
        raise InputError(
            f"invalid {label} {name!r}: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        )
