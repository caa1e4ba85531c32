"""Read what ``mtlslab diagnose`` examines: certificate files, keys, trust bundles, CRLs,
Kubernetes TLS Secrets and Istio plug-in CA folders.

Every reader raises :class:`~mtlslab.errors.InputError` with one sentence that names the
file and what to do, so the command exits with status 2 and no traceback.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from mtlslab.errors import InputError
from mtlslab.pki.crl import parse_crls
from mtlslab.pki.files import parse_certificates, read_input_file

ROLES = ("client", "server")
# Role of an Istio plug-in CA certificate: it signs workload certificates.
CA_ROLE = "ca"

ISTIO_FILES = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")


@dataclass(frozen=True)
class Entry:
    """A certificate and where it was read, e.g. ``tls.crt of Secret web-tls, certificate 2``."""

    certificate: x509.Certificate
    source: str


@dataclass
class Setup:
    """Everything diagnose examines, read and parsed.

    ``presented`` is the chain in file order, as a peer would send it. ``crls`` is None
    when CRL checking is off (no ``--crl``). ``margin`` None means the automatic margin.
    """

    presented: list[Entry] = field(default_factory=list)
    key: PrivateKeyTypes | None = None
    key_source: str | None = None
    anchors: list[Entry] = field(default_factory=list)
    crls: list[tuple[x509.CertificateRevocationList, str]] | None = None
    served: list[Entry] | None = None
    role: str | None = None
    name: str | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    margin: dt.timedelta | None = None
    # For an Istio plug-in CA: the first certificate of cert-chain.pem when it is not ca-cert.pem.
    chain_file_first: Entry | None = None
    # For a Kubernetes Secret: its label ("Secret NAME") and the keys it lacks among tls.key and ca.crt.
    secret: str | None = None
    secret_missing: tuple[str, ...] = ()


def certificate_entries(data: bytes, source: str) -> list[Entry]:
    """Parse the certificates in ``data`` and label each with ``source`` and its position."""
    certificates = parse_certificates(data, source)
    if len(certificates) == 1:
        return [Entry(certificates[0], source)]
    return [Entry(certificate, f"{source}, certificate {number}") for number, certificate in enumerate(certificates, 1)]


def read_certificates(path: str | os.PathLike) -> list[Entry]:
    """Read every certificate in a PEM or DER file."""
    return certificate_entries(read_input_file(path), str(path))


def parse_private_key(data: bytes, source: str) -> PrivateKeyTypes:
    """Parse an unencrypted PEM or DER private key from ``data``."""
    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return loader(data, password=None)
    except TypeError:
        raise InputError(f"{source} is an encrypted private key: decrypt it first (openssl pkey -in KEY -out PLAIN)") from None
    except ValueError:
        raise InputError(f"{source} is not a private key: expected a PEM or DER private key") from None


def read_private_key(path: str | os.PathLike) -> PrivateKeyTypes:
    """Read an unencrypted PEM or DER private key file."""
    return parse_private_key(read_input_file(path), str(path))


def read_crls(path: str | os.PathLike) -> list[tuple[x509.CertificateRevocationList, str]]:
    """Read one DER CRL or every PEM CRL in a file, each with its source label."""
    crls = parse_crls(read_input_file(path), str(path))
    if not crls:
        raise InputError(f"{path} contains no CRL: pass a PEM (-----BEGIN X509 CRL-----) or DER CRL")
    if len(crls) == 1:
        return [(crls[0], str(path))]
    return [(crl, f"{path}, CRL {number}") for number, crl in enumerate(crls, 1)]


def read_secret(path: str | os.PathLike) -> tuple[str, dict[str, bytes]]:
    """Read a Kubernetes Secret in YAML or JSON, as ``kubectl get secret NAME -o yaml`` prints it.

    Returns the Secret's name and its decoded ``data`` values (and ``stringData``
    values, encoded as UTF-8) by key.
    """
    text = read_input_file(path)
    document = _load_document(text, path)
    if not isinstance(document, dict) or document.get("kind") != "Secret":
        raise InputError(f"{path} is not a Kubernetes Secret: expected a document with kind: Secret")
    name = (document.get("metadata") or {}).get("name", "(unnamed)")

    values: dict[str, bytes] = {}
    data = document.get("data") or {}
    if not isinstance(data, dict):
        raise InputError(f"Secret {name} in {path}: data must be a map of keys to base64 values")
    for key, value in data.items():
        if not isinstance(value, str):
            raise InputError(f"Secret {name} in {path}: data.{key} is not a base64 string")
        try:
            values[key] = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"Secret {name} in {path}: data.{key} is not valid base64; copy it again from kubectl") from None
    for key, value in (document.get("stringData") or {}).items():
        values[key] = str(value).encode()
    return str(name), values


def read_istio_cacerts(directory: str | os.PathLike) -> dict[str, bytes]:
    """Read Istio's plug-in CA files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) from ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory: pass the folder that contains ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem")
    files = {}
    for name in ISTIO_FILES:
        path = directory / name
        if not path.exists():
            raise InputError(f"{path}: no such file; Istio's plug-in CA needs {', '.join(ISTIO_FILES)}")
        files[name] = read_input_file(path)
    return files


def _load_document(text: bytes, path) -> object:
    stripped = text.lstrip()
    if stripped.startswith(b"{"):
        try:
            return json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise InputError(f"{path} is not valid JSON: export the Secret again with kubectl get secret NAME -o json") from None
    # PyYAML takes tens of milliseconds to import; only Secret files need it.
    import yaml

    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError):
        raise InputError(f"{path} is not valid YAML: export the Secret again with kubectl get secret NAME -o yaml") from None
