"""A readable summary of a certificate: the fields a learner or an on-call engineer checks first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from mtlslab.pki.authority import KEY_USAGES
from mtlslab.pki.keys import describe_public_key

_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}

# RFC 5280 names for the KeyUsage bits, which cryptography spells in snake case.
_KEY_USAGE_NAMES = {
    "digital_signature": "digitalSignature",
    "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment",
    "data_encipherment": "dataEncipherment",
    "key_agreement": "keyAgreement",
    "key_cert_sign": "keyCertSign",
    "crl_sign": "cRLSign",
    "encipher_only": "encipherOnly",
    "decipher_only": "decipherOnly",
}


@dataclass(frozen=True)
class CertificateSummary:
    """The fields of a certificate that decide whether a TLS peer accepts it."""

    subject: str
    issuer: str
    serial_number: str
    not_before: dt.datetime
    not_after: dt.datetime
    status: str
    time_left: str
    subject_alt_names: tuple[str, ...]
    public_key: str
    signature_algorithm: str
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    is_ca: bool
    path_length: int | None
    self_signed: bool
    sha256_fingerprint: str

    def __str__(self) -> str:
        constraint = "CA:TRUE" if self.is_ca else "CA:FALSE"
        if self.is_ca:
            constraint += ", pathlen unlimited" if self.path_length is None else f", pathlen {self.path_length}"
        rows = [
            ("Subject", self.subject or "(empty)"),
            ("Issuer", self.issuer + ("  (self-signed)" if self.self_signed else "")),
            ("Serial", self.serial_number),
            ("Not before", self.not_before.isoformat()),
            ("Not after", self.not_after.isoformat()),
            ("Status", f"{self.status}, {self.time_left}"),
            ("SANs", ", ".join(self.subject_alt_names) or "(none)"),
            ("Public key", self.public_key),
            ("Signature", self.signature_algorithm),
            ("Key usage", ", ".join(self.key_usage) or "(extension absent)"),
            ("Ext. key usage", ", ".join(self.extended_key_usage) or "(extension absent)"),
            ("Basic constr.", constraint),
            ("SHA-256", self.sha256_fingerprint),
        ]
        return "\n".join(f"{label:<15}{value}" for label, value in rows)


def summarize(certificate: x509.Certificate, at: dt.datetime | None = None) -> CertificateSummary:
    """Summarize ``certificate``, judging its validity at ``at`` (default: now)."""
    at = at or dt.datetime.now(dt.timezone.utc)
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    if at < not_before:
        status, time_left = "not yet valid", f"valid in {format_duration(not_before - at)}"
    elif at > not_after:
        status, time_left = "expired", f"expired {format_duration(at - not_after)} ago"
    else:
        status, time_left = "valid", f"expires in {format_duration(not_after - at)}"

    basic = _extension(certificate, x509.BasicConstraints)
    return CertificateSummary(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_number=f"{certificate.serial_number:x}",
        not_before=not_before,
        not_after=not_after,
        status=status,
        time_left=time_left,
        subject_alt_names=subject_alt_names(certificate),
        public_key=describe_public_key(certificate.public_key()),
        signature_algorithm=_signature_algorithm(certificate),
        key_usage=_key_usage(certificate),
        extended_key_usage=_extended_key_usage(certificate),
        is_ca=bool(basic and basic.ca),
        path_length=basic.path_length if basic else None,
        self_signed=certificate.subject == certificate.issuer,
        sha256_fingerprint=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def format_duration(delta: dt.timedelta) -> str:
    """Format a duration in its two largest units, for example ``89 days 23 hours`` or ``42 seconds``."""
    seconds = int(delta.total_seconds())
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    parts = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
        if len(parts) == 2:
            break
    return " ".join(parts) or "0 seconds"


def _extension(certificate: x509.Certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def subject_alt_names(certificate: x509.Certificate) -> tuple[str, ...]:
    """Return the subjectAltName entries of ``certificate`` as DNS:, IP: and URI: strings."""
    san = _extension(certificate, x509.SubjectAlternativeName)
    if san is None:
        return ()
    names = [f"DNS:{name}" for name in san.get_values_for_type(x509.DNSName)]
    names += [f"IP:{address}" for address in san.get_values_for_type(x509.IPAddress)]
    names += [f"URI:{uri}" for uri in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return tuple(names)


def _signature_algorithm(certificate: x509.Certificate) -> str:
    oid_name = certificate.signature_algorithm_oid._name
    return oid_name if oid_name != "Unknown OID" else certificate.signature_algorithm_oid.dotted_string


def _key_usage(certificate: x509.Certificate) -> tuple[str, ...]:
    usage = _extension(certificate, x509.KeyUsage)
    return () if usage is None else key_usage_names(usage)


def key_usage_names(usage: x509.KeyUsage) -> tuple[str, ...]:
    """Return the RFC 5280 names of the bits set in a KeyUsage extension, such as ``keyCertSign``."""
    names = []
    for attribute in KEY_USAGES:
        # encipher_only and decipher_only are defined only when keyAgreement is set.
        if attribute in ("encipher_only", "decipher_only") and not usage.key_agreement:
            continue
        if getattr(usage, attribute):
            names.append(_KEY_USAGE_NAMES[attribute])
    return tuple(names)


def _extended_key_usage(certificate: x509.Certificate) -> tuple[str, ...]:
    usage = _extension(certificate, x509.ExtendedKeyUsage)
    if usage is None:
        return ()
    return tuple(_EKU_NAMES.get(oid, oid.dotted_string) for oid in usage)
