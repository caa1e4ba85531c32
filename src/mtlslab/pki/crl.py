"""Certificate revocation lists (RFC 5280 section 5) issued by the kit's CAs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.errors import InputError
from mtlslab.pki.authority import CertificateAuthority
from mtlslab.pki.keys import default_signature_hash

PEM_CRL_MARKER = b"-----BEGIN X509 CRL-----"


def issue_crl(
    authority: CertificateAuthority,
    revoked: Iterable[x509.Certificate] = (),
    *,
    last_update: dt.datetime | None = None,
    lifetime: dt.timedelta = dt.timedelta(days=7),
    reason: x509.ReasonFlags | None = None,
) -> x509.CertificateRevocationList:
    """Issue a CRL signed by ``authority`` that lists the serial numbers of ``revoked``.

    ``last_update`` (thisUpdate in RFC 5280) defaults to one minute before now and
    nextUpdate is ``lifetime`` later; pass a past ``last_update`` with a short lifetime to
    build an expired CRL. ``reason`` adds a reasonCode entry extension (RFC 5280 section
    5.3.1) to every entry, for example ``x509.ReasonFlags.key_compromise``.
    """
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = last_update or now - dt.timedelta(minutes=1)
    ski = authority.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(start)
        .next_update(start + lifetime)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for certificate in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(certificate.serial_number).revocation_date(start)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(authority.private_key, default_signature_hash(authority.private_key))


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    """Return the CRL PEM-encoded, the form ``SSLContext.load_verify_locations`` reads from a file."""
    return crl.public_bytes(serialization.Encoding.PEM)


def parse_crls(data: bytes, source: str = "input") -> list[x509.CertificateRevocationList]:
    """Parse one DER CRL, or every PEM CRL in ``data``."""
    if PEM_CRL_MARKER in data:
        crls = []
        for block in data.split(PEM_CRL_MARKER)[1:]:
            pem = PEM_CRL_MARKER + block.split(b"-----END X509 CRL-----")[0] + b"-----END X509 CRL-----\n"
            try:
                crls.append(x509.load_pem_x509_crl(pem))
            except ValueError:
                raise InputError(f"{source} contains a damaged PEM CRL (truncated or edited): download it again") from None
        return crls
    try:
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        raise InputError(f"{source} is not a CRL: expected PEM (-----BEGIN X509 CRL-----) or DER") from None
