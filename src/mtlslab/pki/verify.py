"""Chain verification with pyca/cryptography's verifier, as a second opinion beside OpenSSL.

The verifier applies the CA/Browser Forum's Web PKI profile, which is stricter than
OpenSSL's defaults: among other things it rejects certificates signed by a CA with an
Ed25519 key, which OpenSSL accepts. An Ed25519 leaf under an ECDSA or RSA CA passes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

__all__ = ["VerificationError", "verify_client_chain", "verify_server_chain"]


def verify_server_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Iterable[x509.Certificate],
    name: str,
    at: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Verify a server's chain for ``name`` (a DNS name or IP address) as a TLS client would.

    Returns the verified chain from leaf to anchor; raises VerificationError with the
    reason when the chain does not lead to an anchor, has expired, lacks serverAuth,
    or does not name ``name``.
    """
    verifier = _policy(anchors, at).build_server_verifier(_subject(name))
    return verifier.verify(leaf, list(intermediates))


def verify_client_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Iterable[x509.Certificate],
    at: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Verify a client's chain as an mTLS server would; returns the chain from leaf to anchor."""
    verifier = _policy(anchors, at).build_client_verifier()
    return verifier.verify(leaf, list(intermediates)).chain


def _policy(anchors: Iterable[x509.Certificate], at: dt.datetime | None) -> PolicyBuilder:
    builder = PolicyBuilder().store(Store(list(anchors)))
    return builder.time(at or dt.datetime.now(dt.timezone.utc))


def _subject(name: str) -> x509.verification.Subject:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
