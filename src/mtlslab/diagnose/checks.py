"""The checks behind ``mtlslab diagnose``: each looks at one property of the setup and returns findings.

The checks follow what OpenSSL 3.0 enforces at security level 2, because Python, curl,
nginx and most sidecars verify with OpenSSL or BoringSSL. Level 2 is what Python 3.10 and
later set in every ssl context and what Debian's OpenSSL build uses by default; upstream
OpenSSL 3.0 defaults to level 1. Where Go or Java differ, the message names the difference.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, SignatureAlgorithmOID

from mtlslab.diagnose import chain as chains
from mtlslab.diagnose.findings import ERROR, SEVERITIES, WARNING, Finding
from mtlslab.diagnose.inputs import CA_ROLE, Entry, Setup
from mtlslab.pki.summary import format_duration, key_usage_names, subject_alt_names

# The automatic expiry warning margin: 30 days, or a third of the certificate's
# lifetime when that is shorter, so that 24-hour mesh workload certificates warn in
# their last 8 hours instead of always. cert-manager renews at two thirds of the
# lifetime by default.
DEFAULT_MARGIN = dt.timedelta(days=30)

# Critical extensions that OpenSSL 3.0 processes (X509_supported_extension); any other
# critical extension fails verification with "unhandled critical extension".
SUPPORTED_CRITICAL_EXTENSIONS = {
    ExtensionOID.KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.OCSP_NO_CHECK,
    ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.POLICY_MAPPINGS,
    ExtensionOID.INHIBIT_ANY_POLICY,
    x509.ObjectIdentifier("2.16.840.1.113730.1.1"),  # Netscape certificate type
    x509.ObjectIdentifier("1.3.6.1.5.5.7.1.7"),  # RFC 3779 IP address blocks
    x509.ObjectIdentifier("1.3.6.1.5.5.7.1.8"),  # RFC 3779 AS identifiers
    x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14"),  # RFC 3820 proxy certificate information
}

WEAK_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA1: "sha1WithRSAEncryption",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ecdsa-with-SHA1",
    SignatureAlgorithmOID.DSA_WITH_SHA1: "dsa-with-SHA1",
    SignatureAlgorithmOID.RSA_WITH_MD5: "md5WithRSAEncryption",
}

# OpenSSL security level 2 requires 112 bits of security: RSA and DSA keys of 2048 bits
# and elliptic curves of 224 bits (SP 800-57 part 1, table 2).
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224

_ROLE_EKU = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
_EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}


@dataclass
class Report:
    """The findings about a setup, the certification path that was built, and notes on what was not checked."""

    findings: list[Finding] = field(default_factory=list)
    path: chains.CertificationPath | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error."""
        return any(finding.severity == ERROR for finding in self.findings)

    def add(self, finding_id: str, severity: str, message: str, evidence: dict | None = None, fix: str = "") -> None:
        """Add a finding unless one with the same id, certificate and field is already there."""
        finding = Finding(finding_id, severity, message, evidence or {}, fix)
        for existing in self.findings:
            if (existing.id, existing.evidence) == (finding.id, finding.evidence):
                return
        self.findings.append(finding)

    def sort(self) -> None:
        """Order the findings by severity, keeping the order of the checks within one severity."""
        self.findings.sort(key=lambda finding: SEVERITIES.index(finding.severity))


def describe(certificate: x509.Certificate) -> str:
    """Name a certificate by its subject, or by its first SAN when the subject is empty."""
    subject = certificate.subject.rfc4514_string()
    if subject:
        return subject
    names = subject_alt_names(certificate)
    return names[0] if names else f"serial {certificate.serial_number:x}"


def evidence(entry: Entry | None, field_name: str, value, **extra) -> dict:
    """Build the evidence of a finding: the certificate, where it was read, the field and its value."""
    record = {}
    if entry is not None:
        record["certificate"] = describe(entry.certificate)
        record["serial"] = f"{entry.certificate.serial_number:x}"
        record["source"] = entry.source
    record["field"] = field_name
    record["value"] = value if isinstance(value, (str, int, list)) or value is None else str(value)
    record.update(extra)
    return record


def diagnose_setup(setup: Setup) -> Report:
    """Run every check on ``setup`` and return the findings, errors first."""
    report = Report()
    presented = setup.presented
    if not presented and setup.served:
        presented = setup.served

    if not presented:
        if setup.role == "client":
            report.add(
                "client-cert-missing",
                ERROR,
                "No client certificate is configured: a server that requires mTLS rejects this client "
                "(TLS 1.3: alert certificate_required on the client's first read; TLS 1.2: handshake_failure).",
                evidence(None, "client certificate", "none given"),
            )
        _check_anchors_alone(setup, report)
        report.sort()
        return report

    leaf, intermediates = _check_order(presented, setup.role, report)
    anchors = chains.CertificatePool(setup.anchors)
    path = chains.build_path(leaf, intermediates, anchors)
    report.path = path

    _check_trust(path, intermediates, report)
    for index, entry in enumerate(path.entries):
        _check_validity(entry, setup, report)
        _check_critical_extensions(entry, report)
        _check_key_strength(entry, index == 0 and setup.role != CA_ROLE, report)
        _check_signature_hash(entry, report)
        if index > 0:
            _check_issuer(entry, path.entries[index - 1], report)
            _check_outlives(path.entries[index - 1], entry, report)
            _check_path_length(entry, index, setup.role, report)
            _check_ca_purpose(entry, setup.role, report)
            if setup.role != CA_ROLE:
                _check_name_constraints(entry, leaf, report)

    if setup.role == CA_ROLE:
        _check_plugin_ca(leaf, setup.chain_file_first, report)
    else:
        _check_leaf_purpose(leaf, setup.role, report)
        _check_key_usage(leaf, setup.role, report)
        _check_identity(leaf, setup.role, setup.name, report)
        _check_signature_algorithm_support(leaf, report)
    if setup.key is not None:
        _check_key_pair(leaf, setup.key, setup.key_source, report)
    if setup.crls is not None and setup.role != CA_ROLE:
        _check_revocation(path, setup, report)
    if setup.served and setup.presented:
        _check_served(setup.served[0], leaf, setup.at, report)
    _note_unchecked(setup, report)
    report.sort()
    return report


def _note_unchecked(setup: Setup, report: Report) -> None:
    """Note the inputs that were not given, so that a clean report does not look like a complete one."""
    if setup.secret is not None:
        if "tls.key" in setup.secret_missing and setup.key is None:
            report.notes.append(
                f"{setup.secret} has no tls.key: whether the private key belongs to tls.crt was not checked "
                "(pass the key with --key FILE)."
            )
        if "ca.crt" in setup.secret_missing and not setup.anchors:
            report.notes.append(
                f"{setup.secret} has no ca.crt: whether a peer trusts this chain was not checked "
                "(pass the verifying peer's trust bundle with --ca FILE)."
            )
    elif not setup.anchors:
        report.notes.append("No trust bundle given (--ca): whether a peer trusts this chain was not checked.")


def _check_anchors_alone(setup: Setup, report: Report) -> None:
    for entry in setup.anchors:
        if setup.at > entry.certificate.not_valid_after_utc:
            _check_validity(entry, setup, report)


def _check_order(presented: list[Entry], role: str | None, report: Report) -> tuple[Entry, list[Entry]]:
    """Pick the leaf and report a chain file that is out of order."""
    leaf = presented[0]
    if role != CA_ROLE and _is_ca(leaf.certificate):
        leaves = [entry for entry in presented if not _is_ca(entry.certificate)]
        if leaves:
            report.add(
                "chain-order",
                ERROR,
                f"The chain starts with the CA certificate {describe(leaf.certificate)}, so a TLS library presents it "
                f"as this peer's own certificate; the leaf {describe(leaves[0].certificate)} must come first.",
                evidence(leaf, "position", "first certificate of the chain", leaf_source=leaves[0].source),
            )
            leaf = leaves[0]

    rest = [entry for entry in presented if entry is not leaf]
    expected_issuer = leaf.certificate
    for position, entry in enumerate(rest):
        if entry.certificate.subject != expected_issuer.issuer:
            issuers = [other for other in rest if other.certificate.subject == expected_issuer.issuer]
            found = "appears later in the file" if issuers else "is not in the file"
            report.add(
                "chain-order",
                WARNING,
                f"Certificate {describe(entry.certificate)} should be the issuer of {describe(expected_issuer)}, "
                f"whose issuer {expected_issuer.issuer.rfc4514_string()} {found}. TLS 1.2 (RFC 5246 section 7.4.2) "
                "requires this order; some verifiers reorder, others reject.",
                evidence(entry, "position", position + 2),
            )
            break
        expected_issuer = entry.certificate
    return leaf, rest


def _check_trust(path: chains.CertificationPath, sent: list[Entry], report: Report) -> None:
    """Report how the path ends when it is not trusted; ``sent`` are the certificates sent after the leaf."""
    top = path.top
    issuer_name = top.certificate.issuer.rfc4514_string()
    if path.end == chains.TRUSTED_INTERMEDIATE:
        report.add(
            "intermediate-anchor",
            ERROR,
            f"The trust bundle holds {describe(top.certificate)}, which is not a self-signed root, and not the root "
            f"above it ({issuer_name}). OpenSSL and BoringSSL report 'unable to get issuer certificate' unless "
            "partial chains are allowed (X509_V_FLAG_PARTIAL_CHAIN); Go and Java accept it.",
            evidence(top, "issuer", issuer_name),
        )
    elif path.end == chains.UNTRUSTED_ROOT:
        if len(path.entries) == 1:
            report.add(
                "self-signed-leaf",
                ERROR,
                f"The leaf {describe(top.certificate)} is self-signed and not in the trust bundle, so verifiers report "
                "'self-signed certificate' (OpenSSL 18).",
                evidence(top, "issuer", f"{issuer_name} (itself)"),
            )
        else:
            report.add(
                "unknown-ca",
                ERROR,
                f"The chain ends at the root {describe(top.certificate)}, which the peer sent but the trust bundle does "
                "not hold; a verifier never trusts a root only because the peer sent it "
                "('self-signed certificate in certificate chain', OpenSSL 19).",
                evidence(top, "subject", describe(top.certificate)),
            )
    elif path.end == chains.ISSUER_KEY_DIFFERS and not path.same_name_anchors and not any(
        chains.is_self_signed(entry.certificate) for entry in path.same_name_candidates
    ):
        names = ", ".join(entry.source for entry in path.same_name_candidates)
        report.add(
            "missing-intermediate",
            ERROR,
            f"{describe(top.certificate)} was signed by a CA named {issuer_name}, and the chain carries a certificate "
            f"with that name ({names}) but with another key, so it did not sign {describe(top.certificate)}: the "
            "intermediate was re-keyed or replaced, and the chain sends the new one with a certificate issued by the "
            "old one ('unable to get local issuer certificate', OpenSSL 20).",
            evidence(top, "issuer", issuer_name, authority_key_identifier=_aki_hex(top.certificate)),
            fix="Send the intermediate that signed this certificate, or re-issue the certificate from the current "
            "intermediate and send that intermediate after it.",
        )
    elif path.end == chains.ISSUER_KEY_DIFFERS and not path.same_name_anchors:
        names = ", ".join(entry.source for entry in path.same_name_candidates)
        report.add(
            "unknown-ca",
            ERROR,
            f"{describe(top.certificate)} was signed by a CA named {issuer_name}; the chain carries a root with that "
            f"name ({names}) but with another key, and the trust bundle holds no CA with that name.",
            evidence(top, "issuer", issuer_name, authority_key_identifier=_aki_hex(top.certificate)),
        )
    elif path.end == chains.ISSUER_KEY_DIFFERS:
        names = ", ".join(entry.source for entry in path.same_name_anchors)
        report.add(
            "unknown-ca",
            ERROR,
            f"{describe(top.certificate)} was signed by a CA named {issuer_name}, and the trust bundle holds a CA "
            f"with that name ({names}) but with another key: the CA was replaced (for example a rotated trust "
            "anchor) and this certificate still comes from the old one.",
            evidence(top, "issuer", issuer_name, authority_key_identifier=_aki_hex(top.certificate)),
        )
    elif path.end == chains.ISSUER_NOT_FOUND:
        if len(path.entries) == 1 and sent:
            names = ", ".join(describe(entry.certificate) for entry in sent)
            roots = [entry for entry in sent if chains.is_self_signed(entry.certificate)]
            useless = (
                f" Sending the root {describe(roots[0].certificate)} does not help: a verifier must already hold it "
                "in its trust bundle and never trusts a root because the peer sent it."
                if roots
                else ""
            )
            report.add(
                "missing-intermediate",
                ERROR,
                f"The leaf {describe(top.certificate)} is sent with {names}, but not with its issuer {issuer_name}, "
                "which is neither in the chain nor in the trust bundle ('unable to get local issuer certificate', "
                f"OpenSSL 20).{useless}",
                evidence(top, "issuer", issuer_name, sent=[describe(entry.certificate) for entry in sent]),
            )
        elif len(path.entries) == 1:
            report.add(
                "missing-intermediate",
                ERROR,
                f"Only the leaf {describe(top.certificate)} is sent, and its issuer {issuer_name} is neither in the "
                "chain nor in the trust bundle ('unable to get local issuer certificate', OpenSSL 20 and 21). If "
                f"{issuer_name} is a root rather than an intermediate, the trust bundle lacks it instead (unknown-ca).",
                evidence(top, "issuer", issuer_name),
            )
        else:
            report.add(
                "unknown-ca",
                ERROR,
                f"The chain ends at {describe(top.certificate)}, issued by {issuer_name}, which the trust bundle does "
                "not hold ('unable to get local issuer certificate', OpenSSL 20).",
                evidence(top, "issuer", issuer_name),
            )
    elif path.end == chains.TOO_LONG:
        report.add(
            "pathlen-exceeded",
            ERROR,
            f"The chain has more than {chains.MAX_PATH_LENGTH} certificates or loops.",
            evidence(top, "chain length", len(path.entries)),
        )

    for child, issuer in path.aki_mismatches:
        report.add(
            "aki-ski-mismatch",
            ERROR,
            f"{describe(child.certificate)} is signed by {describe(issuer.certificate)}, but its "
            "authorityKeyIdentifier names another key, so OpenSSL does not accept that CA as its issuer "
            "('unable to get local issuer certificate').",
            evidence(
                child,
                "authorityKeyIdentifier",
                _aki_hex(child.certificate),
                issuer_subject_key_identifier=_ski_hex(issuer.certificate),
            ),
        )


def _check_validity(entry: Entry, setup: Setup, report: Report) -> None:
    certificate = entry.certificate
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    at = setup.at
    if at > not_after:
        report.add(
            "expired",
            ERROR,
            f"{describe(certificate)} expired {format_duration(at - not_after)} ago ('certificate has expired', OpenSSL 10).",
            evidence(entry, "notAfter", not_after.isoformat()),
        )
    elif at < not_before:
        seconds = int((not_before - at).total_seconds())
        wait = format_duration(not_before - at)
        if seconds >= 60:
            wait += f" ({seconds} seconds)"
        report.add(
            "not-yet-valid",
            ERROR,
            f"{describe(certificate)} becomes valid in {wait}: "
            "the issuer's clock runs ahead of the verifier's, or the certificate was issued for later.",
            evidence(entry, "notBefore", not_before.isoformat(), seconds_ahead=seconds),
        )
    else:
        margin = setup.margin if setup.margin is not None else min(DEFAULT_MARGIN, (not_after - not_before) / 3)
        if not_after - at < margin:
            report.add(
                "expiring-soon",
                WARNING,
                f"{describe(certificate)} expires in {format_duration(not_after - at)}, within the warning margin "
                f"of {format_duration(margin)}.",
                evidence(entry, "notAfter", not_after.isoformat()),
            )


def _check_critical_extensions(entry: Entry, report: Report) -> None:
    for extension in entry.certificate.extensions:
        if extension.critical and extension.oid not in SUPPORTED_CRITICAL_EXTENSIONS:
            report.add(
                "unknown-critical-extension",
                ERROR,
                f"{describe(entry.certificate)} has the critical extension {extension.oid.dotted_string}, which "
                "verifiers do not process, so they must reject the certificate "
                "('unhandled critical extension', OpenSSL 34; Go 'x509: unhandled critical extension').",
                evidence(entry, "extension", extension.oid.dotted_string, critical=True),
            )


def _check_key_strength(entry: Entry, is_leaf: bool, report: Report) -> None:
    public_key = entry.certificate.public_key()
    if isinstance(public_key, (rsa.RSAPublicKey, dsa.DSAPublicKey)):
        weak, size = public_key.key_size < MIN_RSA_BITS, f"{type(public_key).__name__[:3]} {public_key.key_size} bits"
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        weak, size = public_key.curve.key_size < MIN_EC_BITS, f"EC {public_key.curve.name}"
    else:
        return
    if not weak:
        return
    openssl = "'ee key too small' when loaded, 'EE certificate key too weak' (66) when verified" if is_leaf else (
        "'ca key too small' when loaded, 'CA certificate key too weak' (67) when verified"
    )
    report.add(
        "weak-key",
        ERROR,
        f"The key of {describe(entry.certificate)} ({size}) is below OpenSSL security level 2 ({openssl}), which "
        "Python 3.10 and later set in every ssl context and Debian's OpenSSL build uses by default; upstream "
        "OpenSSL 3.0 defaults to level 1, which still accepts it.",
        evidence(entry, "subjectPublicKeyInfo", size),
    )


def _check_signature_hash(entry: Entry, report: Report) -> None:
    name = WEAK_SIGNATURES.get(entry.certificate.signature_algorithm_oid)
    if name is None or chains.is_self_signed(entry.certificate):
        return
    report.add(
        "weak-signature",
        ERROR,
        f"{describe(entry.certificate)} is signed with {name}. OpenSSL 3.0 and later reject it from security level 1, "
        "so at every default setting ('ca md too "
        "weak' when loaded, 'CA signature digest algorithm too weak' (68) when verified); Go 1.18 and later report "
        "'insecure algorithm'.",
        evidence(entry, "signatureAlgorithm", name),
    )


def _check_issuer(issuer: Entry, child: Entry, report: Report) -> None:
    certificate = issuer.certificate
    constraints = _extension(certificate, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        value = "absent" if constraints is None else "CA:FALSE"
        report.add(
            "issuer-not-ca",
            ERROR,
            f"{describe(certificate)} signed {describe(child.certificate)} but is not a CA (basicConstraints {value}), "
            "so verifiers report 'invalid CA certificate' (OpenSSL 79, 24 before 3.0) or Go 'x509: certificate is not "
            "authorized to sign other certificates'.",
            evidence(issuer, "basicConstraints", value),
        )
        return
    usage = _extension(certificate, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        report.add(
            "issuer-not-ca",
            ERROR,
            f"{describe(certificate)} is CA:TRUE, but its keyUsage lacks keyCertSign, so it may not sign "
            f"{describe(child.certificate)} ('key usage does not include certificate signing', OpenSSL 32; "
            "OpenSSL 3.0 reports 'invalid CA certificate').",
            evidence(issuer, "keyUsage", list(key_usage_names(usage))),
        )


def _check_outlives(child: Entry, issuer: Entry, report: Report) -> None:
    child_end = child.certificate.not_valid_after_utc
    issuer_end = issuer.certificate.not_valid_after_utc
    if child_end > issuer_end:
        report.add(
            "outlives-issuer",
            WARNING,
            f"{describe(child.certificate)} is valid until {child_end.isoformat()}, "
            f"{format_duration(child_end - issuer_end)} after its issuer {describe(issuer.certificate)} expires; "
            "the chain fails from the issuer's expiry on.",
            evidence(child, "notAfter", child_end.isoformat(), issuer_not_after=issuer_end.isoformat()),
        )


def _check_path_length(entry: Entry, index: int, role: str | None, report: Report) -> None:
    constraints = _extension(entry.certificate, x509.BasicConstraints)
    if constraints is None or not constraints.ca or constraints.path_length is None:
        return
    # CAs between this one and the leaf. For an Istio plug-in CA the path starts at
    # the CA that signs workload certificates, which is between them too.
    below = index if role == CA_ROLE else index - 1
    if below > constraints.path_length:
        report.add(
            "pathlen-exceeded",
            ERROR,
            f"{describe(entry.certificate)} has pathLenConstraint {constraints.path_length}, but {below} intermediate "
            f"CA{'s stand' if below != 1 else ' stands'} below it ('path length constraint exceeded', OpenSSL 25; Go 'too many "
            "intermediates for path length constraint').",
            evidence(entry, "basicConstraints pathLenConstraint", constraints.path_length, intermediates_below=below),
        )


def _check_ca_purpose(entry: Entry, role: str | None, report: Report) -> None:
    """OpenSSL also applies extendedKeyUsage to CA certificates: a CA with the extension must allow the purpose."""
    usage = _extension(entry.certificate, x509.ExtendedKeyUsage)
    if usage is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usage:
        return
    if role in _ROLE_EKU:
        needed = [_ROLE_EKU[role]]
    elif role == CA_ROLE:
        # Istio workload certificates act as servers and clients.
        needed = list(_ROLE_EKU.values())
    else:
        needed = []
    missing = [_EKU_NAMES[oid] for oid in needed if oid not in usage]
    if missing:
        report.add(
            "wrong-eku",
            ERROR,
            f"The CA {describe(entry.certificate)} restricts extendedKeyUsage and leaves out {', '.join(missing)}; "
            "OpenSSL applies that restriction to every certificate below it ('unsuitable certificate purpose', 26).",
            evidence(entry, "extendedKeyUsage", _eku_names(usage)),
        )


def _check_name_constraints(entry: Entry, leaf: Entry, report: Report) -> None:
    constraints = _extension(entry.certificate, x509.NameConstraints)
    if constraints is None:
        return
    for kind, name in _leaf_names(leaf.certificate):
        excluded = [subtree for subtree in constraints.excluded_subtrees or () if _within(kind, name, subtree)]
        same_kind = [subtree for subtree in constraints.permitted_subtrees or () if _same_kind(kind, subtree)]
        if excluded:
            reason = f"is inside the excluded subtree {excluded[0].value}"
        elif same_kind and not any(_within(kind, name, subtree) for subtree in same_kind):
            reason = f"is outside the permitted subtrees {', '.join(str(subtree.value) for subtree in same_kind)}"
        else:
            continue
        report.add(
            "name-constraints",
            ERROR,
            f"{describe(leaf.certificate)} names {name}, which {reason} of the CA {describe(entry.certificate)} "
            "('permitted subtree violation' or 'excluded subtree violation', OpenSSL 47 and 48).",
            evidence(leaf, "subjectAltName", f"{kind}:{name}", constraining_ca=describe(entry.certificate)),
        )


def _check_leaf_purpose(leaf: Entry, role: str | None, report: Report) -> None:
    usage = _extension(leaf.certificate, x509.ExtendedKeyUsage)
    if usage is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usage:
        return
    present = _eku_names(usage)
    if role in _ROLE_EKU:
        needed = _ROLE_EKU[role]
        if needed not in usage:
            report.add(
                "wrong-eku",
                ERROR,
                f"{describe(leaf.certificate)} is used as a {role} certificate, but its extendedKeyUsage is "
                f"{', '.join(present) or 'empty'} without {_EKU_NAMES[needed]} ('unsuitable certificate purpose', "
                "OpenSSL 26; Go 'certificate specifies an incompatible key usage').",
                evidence(leaf, "extendedKeyUsage", present),
            )
    elif not any(oid in usage for oid in _ROLE_EKU.values()):
        report.add(
            "wrong-eku",
            ERROR,
            f"{describe(leaf.certificate)} has extendedKeyUsage {', '.join(present)}, which allows neither TLS "
            "servers (serverAuth) nor TLS clients (clientAuth).",
            evidence(leaf, "extendedKeyUsage", present),
        )


def _check_key_usage(leaf: Entry, role: str | None, report: Report) -> None:
    usage = _extension(leaf.certificate, x509.KeyUsage)
    if usage is None or usage.digital_signature:
        return
    names = list(key_usage_names(usage))
    # OpenSSL's purpose checks: a client certificate needs digitalSignature or
    # keyAgreement; a server certificate digitalSignature, keyEncipherment or keyAgreement.
    if role == "client":
        rejected = not usage.key_agreement
    else:
        rejected = not (usage.key_encipherment or usage.key_agreement)
    if rejected:
        report.add(
            "key-usage",
            ERROR,
            f"{describe(leaf.certificate)} has keyUsage {', '.join(names) or 'empty'} without digitalSignature, so it "
            "cannot sign the handshake; OpenSSL reports 'unsuitable certificate purpose' (26).",
            evidence(leaf, "keyUsage", names),
        )
    else:
        report.add(
            "key-usage",
            WARNING,
            f"{describe(leaf.certificate)} has keyUsage {', '.join(names)} without digitalSignature. OpenSSL accepts it, "
            "but RFC 8446 section 4.4.2.2 requires digitalSignature for TLS 1.3 and stricter verifiers reject it.",
            evidence(leaf, "keyUsage", names),
        )


def _check_identity(leaf: Entry, role: str | None, name: str | None, report: Report) -> None:
    certificate = leaf.certificate
    san = _extension(certificate, x509.SubjectAlternativeName)
    if name and name.startswith("spiffe://"):
        uris = san.get_values_for_type(x509.UniformResourceIdentifier) if san else []
        if name not in uris:
            report.add(
                "spiffe-id-mismatch",
                ERROR,
                f"The peer expects the SPIFFE ID {name}, but {describe(certificate)} carries "
                f"{', '.join(uris) or 'no URI SAN'}. TLS libraries do not check URI SANs; meshes do, after the chain "
                "verifies (Envoy: 'verify cert failed: SAN matcher').",
                evidence(leaf, "subjectAltName URI", uris),
            )
        return

    if san is None:
        if role == "client" and not name:
            # Servers verify a client's chain, not its name, unless they expect an identity.
            return
        common_names = [attribute.value for attribute in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        severity = ERROR if role == "server" or name else WARNING
        report.add(
            "cn-only",
            severity,
            f"{describe(certificate)} has no subjectAltName. Go 1.15 and later ('x509: certificate relies on legacy "
            "Common Name field') and browsers ignore the common name; OpenSSL (so Python and curl) and Java still "
            "fall back to it"
            + (", so Go clients and browsers reject servers with this certificate." if severity == ERROR else "."),
            evidence(leaf, "subjectAltName", "absent", common_name=common_names),
        )
        return

    if not name or role == "client":
        return
    if not _matches_name(san, name):
        names = [value for value in subject_alt_names(certificate) if not value.startswith("URI:")]
        report.add(
            "name-mismatch",
            ERROR,
            f"The client connects to {name}, but the certificate names only {', '.join(names) or 'no DNS name or IP address'} "
            "(Python 'Hostname mismatch'; Go 'certificate is valid for ..., not ...').",
            evidence(leaf, "subjectAltName", names, expected=name),
        )


def _check_signature_algorithm_support(leaf: Entry, report: Report) -> None:
    public_key = leaf.certificate.public_key()
    if isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        kind = "Ed25519" if isinstance(public_key, ed25519.Ed25519PublicKey) else "Ed448"
        report.add(
            "no-common-signature-algorithm",
            WARNING,
            f"{describe(leaf.certificate)} has an {kind} key; a peer that does not list {kind.lower()} in its "
            "signature_algorithms extension (RFC 8446 section 4.2.3) cannot accept it, and the handshake fails "
            "with handshake_failure ('no suitable signature algorithm' on an OpenSSL server).",
            evidence(leaf, "subjectPublicKeyInfo", kind),
        )


def _check_plugin_ca(ca: Entry, chain_file_first: Entry | None, report: Report) -> None:
    """An Istio plug-in CA certificate signs workload certificates, so it must be a CA with keyCertSign."""
    certificate = ca.certificate
    if chain_file_first is not None:
        report.add(
            "chain-order",
            ERROR,
            f"cert-chain.pem starts with {describe(chain_file_first.certificate)}, not with the plug-in CA certificate "
            f"{describe(certificate)} of ca-cert.pem; istiod sends cert-chain.pem after each workload certificate, so "
            "it must start with ca-cert.pem and end with the root.",
            evidence(chain_file_first, "position", 1),
        )
    constraints = _extension(certificate, x509.BasicConstraints)
    usage = _extension(certificate, x509.KeyUsage)
    if constraints is None or not constraints.ca:
        value = "absent" if constraints is None else "CA:FALSE"
        report.add(
            "issuer-not-ca",
            ERROR,
            f"The plug-in CA certificate {describe(certificate)} is not a CA (basicConstraints {value}): every workload "
            "certificate it signs fails with 'invalid CA certificate'.",
            evidence(ca, "basicConstraints", value),
        )
    elif usage is not None and not usage.key_cert_sign:
        report.add(
            "issuer-not-ca",
            ERROR,
            f"The plug-in CA certificate {describe(certificate)} lacks keyCertSign in its keyUsage, so the workload "
            "certificates it signs fail verification.",
            evidence(ca, "keyUsage", list(key_usage_names(usage))),
        )


def _check_key_pair(leaf: Entry, key, key_source: str | None, report: Report) -> None:
    certificate_key = leaf.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if certificate_key != private_public:
        report.add(
            "key-mismatch",
            ERROR,
            f"The private key in {key_source} does not belong to {describe(leaf.certificate)}: OpenSSL refuses to load "
            "the pair ('key values mismatch'), Go reports 'tls: private key does not match public key'.",
            evidence(leaf, "subjectPublicKeyInfo", _key_fingerprint(certificate_key), private_key=_key_fingerprint(private_public)),
        )


def _check_revocation(path: chains.CertificationPath, setup: Setup, report: Report) -> None:
    crls = setup.crls or []
    for index, entry in enumerate(path.entries[:-1] if path.trusted else path.entries):
        certificate = entry.certificate
        issuer = path.entries[index + 1].certificate if index + 1 < len(path.entries) else None
        usable = [
            (crl, source)
            for crl, source in crls
            if crl.issuer == certificate.issuer and (issuer is None or _crl_signed_by(crl, issuer))
        ]
        if index == 0 and not usable:
            available = [crl.issuer.rfc4514_string() for crl, _ in crls]
            report.add(
                "crl-missing",
                ERROR,
                f"CRL checking is on, but no CRL signed by {certificate.issuer.rfc4514_string()}, the issuer of "
                f"{describe(certificate)}, was given ('unable to get certificate CRL', OpenSSL 3).",
                evidence(entry, "issuer", certificate.issuer.rfc4514_string(), crl_issuers=available),
            )
        for crl, source in usable:
            if index == 0:
                _check_crl_dates(crl, source, setup.at, report)
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if revoked is not None:
                reason = _revocation_reason(revoked)
                report.add(
                    "revoked",
                    ERROR,
                    f"{describe(certificate)} is revoked by the CRL in {source} since "
                    f"{revoked.revocation_date_utc.isoformat()}{f' (reason: {reason})' if reason else ''} "
                    "('certificate revoked', OpenSSL 23).",
                    evidence(entry, "serialNumber", f"{certificate.serial_number:x}", crl=source, reason=reason),
                )


def _check_crl_dates(crl: x509.CertificateRevocationList, source: str, at: dt.datetime, report: Report) -> None:
    next_update = crl.next_update_utc
    if next_update is not None and at > next_update:
        report.add(
            "crl-expired",
            ERROR,
            f"The CRL of {crl.issuer.rfc4514_string()} in {source} expired {format_duration(at - next_update)} ago "
            "('CRL has expired', OpenSSL 12): every certificate from this issuer fails CRL checks.",
            {"crl": source, "issuer": crl.issuer.rfc4514_string(), "field": "nextUpdate", "value": next_update.isoformat()},
        )
    elif at < crl.last_update_utc:
        report.add(
            "crl-expired",
            ERROR,
            f"The CRL of {crl.issuer.rfc4514_string()} in {source} is not valid for another "
            f"{format_duration(crl.last_update_utc - at)} ('CRL is not yet valid', OpenSSL 11).",
            {"crl": source, "issuer": crl.issuer.rfc4514_string(), "field": "thisUpdate", "value": crl.last_update_utc.isoformat()},
        )


def _check_served(served: Entry, leaf: Entry, at: dt.datetime, report: Report) -> None:
    if served.certificate == leaf.certificate:
        return
    certificate = served.certificate
    expired = at > certificate.not_valid_after_utc
    state = f"expired {format_duration(at - certificate.not_valid_after_utc)} ago" if expired else (
        f"expires {certificate.not_valid_after_utc.isoformat()}"
    )
    report.add(
        "stale-served-certificate",
        ERROR if expired else WARNING,
        f"The process serves {describe(certificate)} (serial {certificate.serial_number:x}, {state}), not the "
        f"certificate on disk (serial {leaf.certificate.serial_number:x}): it has not reloaded its files since they "
        "were renewed.",
        evidence(served, "notAfter", certificate.not_valid_after_utc.isoformat(), file_serial=f"{leaf.certificate.serial_number:x}"),
    )


# Helpers.


def _extension(certificate: x509.Certificate, kind):
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        # A malformed extension: treat it as absent, the other checks still apply.
        return None


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = _extension(certificate, x509.BasicConstraints)
    return bool(constraints and constraints.ca)


def _aki_hex(certificate: x509.Certificate) -> str | None:
    identifier = _extension(certificate, x509.AuthorityKeyIdentifier)
    return identifier.key_identifier.hex(":") if identifier and identifier.key_identifier else None


def _ski_hex(certificate: x509.Certificate) -> str | None:
    identifier = _extension(certificate, x509.SubjectKeyIdentifier)
    return identifier.digest.hex(":") if identifier else None


def _key_fingerprint(public_key_der: bytes) -> str:
    return "SHA-256 " + hashlib.sha256(public_key_der).hexdigest()[:32]


def _eku_names(usage: x509.ExtendedKeyUsage) -> list[str]:
    return [_EKU_NAMES.get(oid, oid.dotted_string) for oid in usage]


def _revocation_reason(revoked: x509.RevokedCertificate) -> str | None:
    try:
        return revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
    except x509.ExtensionNotFound:
        return None


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())
    except (TypeError, ValueError):
        return False


def _leaf_names(certificate: x509.Certificate) -> list[tuple[str, str]]:
    san = _extension(certificate, x509.SubjectAlternativeName)
    if san is None:
        return []
    names = [("DNS", value) for value in san.get_values_for_type(x509.DNSName)]
    names += [("IP", str(value)) for value in san.get_values_for_type(x509.IPAddress)]
    names += [("URI", value) for value in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return names


def _same_kind(kind: str, subtree: x509.GeneralName) -> bool:
    return {"DNS": x509.DNSName, "IP": x509.IPAddress, "URI": x509.UniformResourceIdentifier}[kind] is type(subtree)


def _within(kind: str, name: str, subtree: x509.GeneralName) -> bool:
    """True when ``name`` lies inside the name-constraint ``subtree`` (RFC 5280 section 4.2.1.10)."""
    if not _same_kind(kind, subtree):
        return False
    if kind == "IP":
        return ipaddress.ip_address(name) in subtree.value
    host = name
    if kind == "URI":
        host = urlsplit(name).hostname or ""
    return _domain_within(host.lower(), str(subtree.value).lower())


def _domain_within(host: str, base: str) -> bool:
    if not base:
        return True
    if base.startswith("."):
        return host.endswith(base)
    return host == base or host.endswith("." + base)


def _matches_name(san: x509.SubjectAlternativeName, name: str) -> bool:
    """Match ``name`` against the SAN the way Python's ssl and Go do: IP addresses exactly, DNS names with a leftmost wildcard."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    wanted = name.lower().rstrip(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        pattern = pattern.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False
