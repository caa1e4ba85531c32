"""Read certificates and keys from PEM or DER files, and write them safely.

Every reader raises :class:`~mtlslab.errors.InputError` with one sentence that names
the file; every writer replaces its target atomically, so an interrupted write never
leaves half a key on disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from mtlslab.errors import InputError

PEM_CERTIFICATE_MARKER = b"-----BEGIN CERTIFICATE-----"


def read_input_file(path: str | os.PathLike) -> bytes:
    """Return the bytes of ``path``, or raise InputError for a missing, unreadable or empty file."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory: pass the path of a file inside it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the file readable or run as its owner") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    if not data.strip():
        raise InputError(f"{path} is empty: expected PEM or DER data")
    return data


def parse_certificates(data: bytes, source: str = "input") -> list[x509.Certificate]:
    """Parse one PEM or DER certificate, or a PEM bundle of several, from ``data``."""
    if PEM_CERTIFICATE_MARKER in data:
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError:
            raise InputError(
                f"{source} contains a damaged PEM certificate (truncated or edited): export it again"
            ) from None
    if data.lstrip().startswith(b"-----BEGIN"):
        raise InputError(f"{source} contains PEM data but no certificate: pass the certificate file, not a key or CSR")
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InputError(
            f"{source} is not a certificate: expected PEM (-----BEGIN CERTIFICATE-----) or DER"
        ) from None


def load_certificates(path: str | os.PathLike) -> list[x509.Certificate]:
    """Load every certificate in a PEM or DER file, in file order."""
    return parse_certificates(read_input_file(path), source=str(path))


def load_private_key(path: str | os.PathLike, passphrase: bytes | str | None = None) -> PrivateKeyTypes:
    """Load a PEM or DER private key, decrypting it with ``passphrase`` when it is encrypted."""
    data = read_input_file(path)
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()

    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return loader(data, password=passphrase)
    except TypeError:
        if passphrase is None:
            raise InputError(f"{path} is an encrypted private key: give its passphrase") from None
        raise InputError(f"{path} is not encrypted: omit the passphrase") from None
    except ValueError:
        if passphrase is not None and b"ENCRYPTED" in data:
            raise InputError(f"wrong passphrase for {path}: check the passphrase and try again") from None
        raise InputError(f"{path} is not a private key: expected a PEM or DER private key") from None


def write_file(path: str | os.PathLike, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; ``private`` makes the file readable by its owner only (mode 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_credential(credential, directory: str | os.PathLike, name: str, passphrase=None) -> dict[str, Path]:
    """Write ``NAME.pem``, ``NAME-key.pem`` (mode 0600) and ``NAME-chain.pem`` to ``directory``.

    The chain file contains the certificate followed by its intermediates. Returns the
    paths by role: ``cert``, ``key`` and ``chain``.
    """
    directory = Path(directory)
    return {
        "cert": write_file(directory / f"{name}.pem", credential.cert_pem),
        "key": write_file(directory / f"{name}-key.pem", credential.private_key_pem(passphrase), private=True),
        "chain": write_file(directory / f"{name}-chain.pem", credential.chain_pem),
    }
