"""Renewal: a new certificate for the same identity, from the same issuer or a new one."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from mtlslab.pki.authority import CLOCK_SKEW_ALLOWANCE, CertificateAuthority, Credential
from mtlslab.pki.keys import DEFAULT_KEY_TYPE, default_signature_hash, generate_private_key

# Extensions that belong to the new key and the new issuer, so renewal computes them again.
_RECOMPUTED = (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier)


def renew(
    issuer: CertificateAuthority,
    credential: Credential,
    *,
    reuse_key: bool = False,
    key_type: str = DEFAULT_KEY_TYPE,
    lifetime: dt.timedelta | None = None,
    valid_from: dt.datetime | None = None,
) -> Credential:
    """Issue a successor of ``credential``: same subject, names and usages, new serial and validity.

    ``issuer`` may be the original CA or a new one, which is how an issuer rotation
    re-issues workloads. With ``reuse_key`` the successor keeps the private key, as
    cert-manager does with ``rotationPolicy: Never``; otherwise it gets a new key of
    ``key_type``. ``lifetime`` defaults to the old certificate's lifetime.
    """
    old = credential.certificate
    key = credential.private_key if reuse_key else generate_private_key(key_type)
    lifetime = lifetime or (old.not_valid_after_utc - old.not_valid_before_utc)
    start = valid_from or dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - CLOCK_SKEW_ALLOWANCE

    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
    )
    for extension in old.extensions:
        if not isinstance(extension.value, _RECOMPUTED):
            builder = builder.add_extension(extension.value, critical=extension.critical)

    issuer_ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
    )
    certificate = builder.sign(issuer.private_key, default_signature_hash(issuer.private_key))
    return Credential(certificate=certificate, private_key=key, chain=issuer._issued_chain())


def same_key(first: Credential, second: Credential) -> bool:
    """Return True when both certificates carry the same public key."""
    return first.certificate.public_key() == second.certificate.public_key()

