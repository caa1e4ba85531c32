"""Python ``ssl.SSLContext`` objects configured from the kit's certificates.

The ``ssl`` module loads certificates and keys only from files, so a credential is
written to a private temporary folder, loaded, and the folder removed at once.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.errors import InputError
from mtlslab.pki.authority import CertificateAuthority, Credential
from mtlslab.pki.files import write_credential

TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}

TrustSource = CertificateAuthority | x509.Certificate | Iterable[CertificateAuthority | x509.Certificate]


def server_context(
    credential: Credential,
    trust: TrustSource | None = None,
    *,
    require_client_certificate: bool = True,
    tls_version: str | None = None,
    crls: Iterable[x509.CertificateRevocationList] = (),
) -> ssl.SSLContext:
    """Build a server context that presents ``credential`` and its chain.

    With ``require_client_certificate`` (mTLS) the server sends a CertificateRequest
    and rejects a client whose certificate does not chain to an anchor in ``trust``.
    Without it the server is a plain TLS server and ``trust`` may be None. With
    ``crls`` the server also rejects a client whose certificate they revoke.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _limit_version(context, tls_version)
    load_credential(context, credential)
    if require_client_certificate:
        if trust is None:
            raise InputError("an mTLS server needs trust anchors to verify client certificates: pass trust=CA")
        configure_trust(context, trust)
        context.verify_mode = ssl.CERT_REQUIRED
    load_crls(context, crls)
    return context


def client_context(
    trust: TrustSource,
    credential: Credential | None = None,
    *,
    tls_version: str | None = None,
    check_hostname: bool = True,
    crls: Iterable[x509.CertificateRevocationList] = (),
) -> ssl.SSLContext:
    """Build a client context that verifies the server against ``trust``.

    With ``credential`` the client answers a CertificateRequest with that certificate
    and its chain; without one it sends an empty Certificate message. With ``crls`` it
    rejects a server certificate that they revoke.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _limit_version(context, tls_version)
    context.check_hostname = check_hostname
    configure_trust(context, trust)
    if credential is not None:
        load_credential(context, credential)
    load_crls(context, crls)
    return context


def configure_trust(context: ssl.SSLContext, trust: TrustSource) -> None:
    """Add the certificates of ``trust`` (CAs or certificates) to the context's trust anchors."""
    anchors = [trust] if isinstance(trust, (CertificateAuthority, x509.Certificate)) else list(trust)
    pem = b""
    for anchor in anchors:
        certificate = anchor.certificate if isinstance(anchor, Credential) else anchor
        pem += certificate.public_bytes(serialization.Encoding.PEM)
    context.load_verify_locations(cadata=pem.decode("ascii"))


def load_crls(context: ssl.SSLContext, crls: Iterable[x509.CertificateRevocationList]) -> None:
    """Load CRLs and make the context check the peer's leaf certificate against them.

    OpenSSL then also requires a CRL from the leaf's issuer: a missing CRL fails
    verification with "unable to get certificate CRL", and an expired one with "CRL
    has expired". Intermediates are not checked (VERIFY_CRL_CHECK_LEAF, not CHAIN).
    """
    pem = b"".join(crl.public_bytes(serialization.Encoding.PEM) for crl in crls)
    if not pem:
        return
    # cadata takes certificates only, so CRLs go through a file.
    with tempfile.TemporaryDirectory(prefix="mtlslab-") as directory:
        path = Path(directory) / "crls.pem"
        path.write_bytes(pem)
        context.load_verify_locations(cafile=path)
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def load_credential(context: ssl.SSLContext, credential: Credential) -> None:
    """Load ``credential``'s certificate, chain and key into ``context``."""
    with tempfile.TemporaryDirectory(prefix="mtlslab-") as directory:
        paths = write_credential(credential, Path(directory), "credential")
        context.load_cert_chain(paths["chain"], paths["key"])


def _limit_version(context: ssl.SSLContext, tls_version: str | None) -> None:
    if tls_version is None:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return
    if tls_version not in TLS_VERSIONS:
        raise InputError(f"unsupported TLS version {tls_version!r}: use 1.2 or 1.3")
    context.minimum_version = TLS_VERSIONS[tls_version]
    context.maximum_version = TLS_VERSIONS[tls_version]
