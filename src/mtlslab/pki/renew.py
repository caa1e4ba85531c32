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
    ``key_type``. ``lifetime`` defaults to the old certificate's lifetime. A renewed
    intermediate CA comes back as a :class:`CertificateAuthority` below ``issuer``, so
    it can issue certificates at once.
    """
    key = credential.private_key if reuse_key else generate_private_key(key_type)
    builder = _successor_builder(credential.certificate, issuer.certificate.subject, key, lifetime, valid_from)
    issuer_ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
    )
    certificate = builder.sign(issuer.private_key, default_signature_hash(issuer.private_key))
    if isinstance(credential, CertificateAuthority):
        return CertificateAuthority(certificate=certificate, private_key=key, chain=issuer._issued_chain(), parent=issuer)
    return Credential(certificate=certificate, private_key=key, chain=issuer._issued_chain())


def renew_root(
    root: CertificateAuthority,
    *,
    reuse_key: bool = False,
    key_type: str = DEFAULT_KEY_TYPE,
    lifetime: dt.timedelta | None = None,
) -> CertificateAuthority:
    """Issue a successor of a self-signed root: same subject and extensions, new validity.

    This is what cert-manager's SelfSigned issuer does when it renews a CA Certificate.
    With ``reuse_key`` (``rotationPolicy: Never``) the new root has the old key and
    subject, so certificates that the old root signed still verify against it. Without
    it (``rotationPolicy: Always``, cert-manager's default since v1.18) the new root
    has a new key, which makes the renewal a trust-anchor rotation: peers that trust
    only the new root reject every certificate the old key signed.
    """
    key = root.private_key if reuse_key else generate_private_key(key_type)
    builder = _successor_builder(root.certificate, root.certificate.subject, key, lifetime, None)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    certificate = builder.sign(key, default_signature_hash(key))
    return CertificateAuthority(certificate=certificate, private_key=key)


def _successor_builder(
    old: x509.Certificate,
    issuer_name: x509.Name,
    key,
    lifetime: dt.timedelta | None,
    valid_from: dt.datetime | None,
) -> x509.CertificateBuilder:
    """Start a certificate like ``old`` for ``key``, with every extension but the authority key identifier."""
    lifetime = lifetime or (old.not_valid_after_utc - old.not_valid_before_utc)
    start = valid_from or dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - CLOCK_SKEW_ALLOWANCE
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
    )
    for extension in old.extensions:
        if not isinstance(extension.value, _RECOMPUTED):
            builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)


def same_key(first: Credential, second: Credential) -> bool:
    """Return True when both certificates carry the same public key."""
    return first.certificate.public_key() == second.certificate.public_key()

