"""Expiry order in a chain: a certificate that outlives its issuer stops verifying early.

A verifier checks the validity period of every certificate in the path, not only the
leaf's (RFC 5280 section 6.1.3). A 24-hour leaf from an intermediate that expires in
12 hours therefore fails after 12 hours with "certificate has expired", although the
leaf itself is still valid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509

from mtlslab.errors import InputError
from mtlslab.lifecycle.certmanager import _finding
from mtlslab.pki.summary import format_duration, subject_alt_names


def outlives_issuer_by(certificate: x509.Certificate, issuer: x509.Certificate) -> dt.timedelta:
    """Return how long ``certificate`` stays valid after ``issuer`` expires, or zero when it expires first."""
    overrun = certificate.not_valid_after_utc - issuer.not_valid_after_utc
    return max(overrun, dt.timedelta(0))


def check_chain_expiry(chain: Sequence[x509.Certificate]) -> list[dict]:
    """Return an ``outlives-issuer`` finding for each certificate of ``chain`` that expires after its issuer.

    ``chain`` starts with the leaf and lists each issuer after the certificate it
    signed, as a TLS peer sends it, and may end with the root. The findings have the
    format of :func:`mtlslab.lifecycle.certmanager.check_timings`. Raises InputError
    when a certificate is not followed by its issuer.
    """
    findings = []
    for position, (certificate, issuer) in enumerate(zip(chain, chain[1:]), start=1):
        if certificate.issuer != issuer.subject:
            raise InputError(
                f"certificate {position + 1} of the chain did not issue certificate {position}: "
                "pass the chain leaf first, each certificate followed by its issuer"
            )
        overrun = outlives_issuer_by(certificate, issuer)
        if not overrun:
            continue
        findings.append(
            _finding(
                "outlives-issuer",
                "warning",
                f"{_describe(certificate)} stays valid {format_duration(overrun)} after its issuer "
                f"{_describe(issuer)} expires, so its chain stops verifying when the issuer does",
                {
                    "certificate": _describe(certificate),
                    "certificate notAfter": certificate.not_valid_after_utc.isoformat(),
                    "issuer": _describe(issuer),
                    "issuer notAfter": issuer.not_valid_after_utc.isoformat(),
                },
                "renew the issuer with a longer lifetime and re-issue the certificate, or issue shorter certificates",
            )
        )
    return findings


def _describe(certificate: x509.Certificate) -> str:
    """Name a certificate by its subject, or by its subjectAltName entries when the subject is empty."""
    subject = certificate.subject.rfc4514_string()
    return subject or ", ".join(subject_alt_names(certificate)) or "(no name)"
