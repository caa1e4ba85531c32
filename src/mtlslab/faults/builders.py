"""Certificates with one deliberate defect, for the fault scenarios.

:class:`~mtlslab.pki.CertificateAuthority` builds only well-formed certificates. The
builder here exposes every field that a broken certificate gets wrong in practice:
basicConstraints CA:FALSE on an issuer, keyUsage without keyCertSign, name
constraints, an unknown critical extension, an authority key identifier that does not
name the issuer's key, a SHA-1 signature, a validity window in the past or the future.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ObjectIdentifier

from mtlslab.pki.authority import (
    CA_KEY_USAGE,
    CLOCK_SKEW_ALLOWANCE,
    EXTENDED_KEY_USAGES,
    CertificateAuthority,
    Credential,
    general_names,
    key_usage_extension,
    subject_name,
)
from mtlslab.pki.keys import DEFAULT_KEY_TYPE, default_signature_hash, generate_private_key

# An OID under the arc that RFC 4122 section 4 reserves for UUID-based OIDs (2.25), so
# no verifier knows it: marked critical, it must make every RFC 5280 verifier reject
# the certificate (section 4.2: "A certificate-using system MUST reject the
# certificate if it encounters a critical extension it does not recognize").
UNKNOWN_EXTENSION_OID = ObjectIdentifier("2.25.329800735698586629295641978511506172918")


def now() -> dt.datetime:
    """Return the current UTC time without microseconds, as certificates store it."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def build_certificate(
    common_name: str,
    issuer: CertificateAuthority | None = None,
    *,
    ca: bool | None = False,
    path_length: int | None = None,
    key_usage: Iterable[str] | None = ("digital_signature",),
    extended_key_usage: Iterable[str] | None = None,
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
    uris: Iterable[str] = (),
    key_type: str = DEFAULT_KEY_TYPE,
    private_key: CertificateIssuerPrivateKeyTypes | None = None,
    valid_from: dt.datetime | None = None,
    lifetime: dt.timedelta = dt.timedelta(days=90),
    hash_algorithm: hashes.HashAlgorithm | None = None,
    authority_key_identifier: bytes | None = None,
    permitted_dns_names: Sequence[str] | None = None,
    excluded_dns_names: Sequence[str] | None = None,
    unknown_critical_extension: bool = False,
    organization: str = "mtlslab",
) -> CertificateAuthority:
    """Build a certificate signed by ``issuer`` (self-signed when ``issuer`` is None).

    The result is a :class:`CertificateAuthority` even when the certificate is not a CA,
    so that a certificate which wrongly acts as an issuer can still sign others.

    ``ca`` sets basicConstraints: True or False, or None to leave the extension out.
    ``key_usage`` and ``extended_key_usage`` take the names of
    :data:`~mtlslab.pki.KEY_USAGES` and :data:`~mtlslab.pki.EXTENDED_KEY_USAGES`; None
    leaves the extension out. ``authority_key_identifier`` replaces the key identifier
    that would name the issuer's key. ``permitted_dns_names`` and ``excluded_dns_names``
    add a critical nameConstraints extension (RFC 5280 section 4.2.1.10).
    """
    key = private_key or generate_private_key(key_type)
    subject = subject_name(common_name, organization)
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.private_key if issuer else key
    start = valid_from or now() - CLOCK_SKEW_ALLOWANCE

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
    if key_usage is not None:
        builder = builder.add_extension(key_usage_extension(key_usage), critical=True)
    if extended_key_usage is not None:
        oids = [EXTENDED_KEY_USAGES[usage] for usage in extended_key_usage]
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=False)

    names = general_names(dns_names, ip_addresses, uris)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)

    key_identifier = authority_key_identifier
    if key_identifier is None:
        issuer_public_key = issuer.certificate.public_key() if issuer else key.public_key()
        key_identifier = x509.SubjectKeyIdentifier.from_public_key(issuer_public_key).digest
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier(key_identifier, authority_cert_issuer=None, authority_cert_serial_number=None),
        critical=False,
    )

    if permitted_dns_names is not None or excluded_dns_names is not None:
        permitted = [x509.DNSName(name) for name in permitted_dns_names] if permitted_dns_names is not None else None
        excluded = [x509.DNSName(name) for name in excluded_dns_names] if excluded_dns_names is not None else None
        builder = builder.add_extension(x509.NameConstraints(permitted, excluded), critical=True)
    if unknown_critical_extension:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(UNKNOWN_EXTENSION_OID, b"\x05\x00"), critical=True
        )

    certificate = builder.sign(signing_key, hash_algorithm or default_signature_hash(signing_key))
    chain = issuer._issued_chain() if issuer else ()
    return CertificateAuthority(certificate=certificate, private_key=key, chain=chain, parent=issuer)


def build_ca(common_name: str, issuer: CertificateAuthority | None = None, **options) -> CertificateAuthority:
    """Build a CA certificate (CA:TRUE with keyCertSign) with ``build_certificate`` options."""
    options.setdefault("ca", True)
    options.setdefault("key_usage", CA_KEY_USAGE)
    options.setdefault("lifetime", dt.timedelta(days=365))
    return build_certificate(common_name, issuer, **options)


def resign_with_sha1(certificate: x509.Certificate, issuer_key: CertificateIssuerPrivateKeyTypes) -> x509.Certificate:
    """Return ``certificate`` signed again by ``issuer_key`` with SHA-1 (RSA or ECDSA issuer keys).

    pyca/cryptography refuses to create SHA-1 signatures for certificates, so this
    rewrites the signature AlgorithmIdentifier inside the TBSCertificate, signs the new
    TBSCertificate with the hazmat API, and reassembles the DER (RFC 5280 section 4.1).
    """
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        algorithm = _SHA1_WITH_RSA

        def sign(data: bytes) -> bytes:
            return issuer_key.sign(data, padding.PKCS1v15(), hashes.SHA1())

    elif isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        algorithm = _ECDSA_WITH_SHA1

        def sign(data: bytes) -> bytes:
            return issuer_key.sign(data, ec.ECDSA(hashes.SHA1()))

    else:
        raise ValueError(f"SHA-1 signatures need an RSA or ECDSA issuer key, not {type(issuer_key).__name__}")

    # TBSCertificate ::= SEQUENCE { version [0], serialNumber, signature AlgorithmIdentifier, ... }
    fields = _der_children(certificate.tbs_certificate_bytes)
    fields[2] = algorithm
    tbs = _der_encode(0x30, b"".join(fields))
    signature = _der_encode(0x03, b"\x00" + sign(tbs))
    return x509.load_der_x509_certificate(_der_encode(0x30, tbs + algorithm + signature))


def as_leaf(credential: Credential) -> Credential:
    """Return ``credential`` as a plain leaf credential with the same certificate, key and chain."""
    return Credential(credential.certificate, credential.private_key, credential.chain)


def without_chain(credential: Credential) -> Credential:
    """Return ``credential`` without its intermediates, as a peer that sends only its leaf."""
    return Credential(credential.certificate, credential.private_key, ())


def random_key_identifier() -> bytes:
    """Return 20 random bytes, the length of a SHA-1 key identifier (RFC 5280 section 4.2.1.2)."""
    return os.urandom(20)


# AlgorithmIdentifier DER for sha1WithRSAEncryption (1.2.840.113549.1.1.5, NULL
# parameters, RFC 3279 section 2.2.1) and ecdsa-with-SHA1 (1.2.840.10045.4.1, no
# parameters, RFC 3279 section 2.2.3).
_SHA1_WITH_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
_ECDSA_WITH_SHA1 = bytes.fromhex("300906072a8648ce3d0401")


def _der_children(data: bytes) -> list[bytes]:
    """Split the content of the DER SEQUENCE ``data`` into its encoded elements."""
    offset, length = _der_header(data, 0)
    end = offset + length
    children = []
    while offset < end:
        content_offset, content_length = _der_header(data, offset)
        children.append(data[offset:content_offset + content_length])
        offset = content_offset + content_length
    return children


def _der_header(data: bytes, offset: int) -> tuple[int, int]:
    """Return the offset of the content and its length for the DER element at ``offset``."""
    first_length_byte = data[offset + 1]
    if first_length_byte < 0x80:
        return offset + 2, first_length_byte
    count = first_length_byte & 0x7F
    length = int.from_bytes(data[offset + 2:offset + 2 + count], "big")
    return offset + 2 + count, length


def _der_encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content
