"""Finding ids: the one place where every id that ``mtlslab diagnose`` and ``mtlslab explain`` use is defined.

Each id names one kind of failure and has a runbook of the same name, runbooks/ID.md.
Ids are stable: notebooks, runbooks and scripts that parse ``--json`` output rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)
RUNBOOK_DIRECTORY = "runbooks"


@dataclass(frozen=True)
class FindingKind:
    """An id with a one-line description of the failure and the usual fix."""

    id: str
    description: str
    fix: str
    live_only: bool = False


_KINDS = (
    # Trust.
    FindingKind(
        "unknown-ca",
        "The chain leads to a CA that the verifier does not trust, or to one with the right name but another key.",
        "Add the issuing root to the verifier's trust bundle; during a trust-anchor rotation trust the old and the "
        "new root together until every certificate is re-issued.",
    ),
    FindingKind(
        "missing-intermediate",
        "The peer sends its leaf without the intermediate CA certificates that link it to a trusted root.",
        "Send the leaf followed by its intermediates (the full chain file, e.g. tls.crt with the issuer appended).",
    ),
    FindingKind(
        "self-signed-leaf",
        "The leaf certificate is self-signed and not in the verifier's trust bundle.",
        "Issue the certificate from a CA that the peer trusts, or pin this exact certificate in the peer's trust bundle.",
    ),
    FindingKind(
        "intermediate-anchor",
        "The trust bundle holds an intermediate CA but not the root above it; OpenSSL and BoringSSL require the "
        "chain to end at a self-signed root unless partial chains are allowed.",
        "Add the root certificate to the trust bundle (keep the intermediate if you like).",
    ),
    FindingKind(
        "chain-order",
        "The certificates in the chain file are not in order: the leaf must come first and each next certificate "
        "must be the issuer of the one before (RFC 5246 section 7.4.2).",
        "Rewrite the chain file as the leaf, then its issuer, then that issuer's issuer, leaving the root out.",
    ),
    # Validity.
    FindingKind("expired", "A certificate in the chain is past its notAfter time.", "Renew the certificate and reload every process that serves it."),
    FindingKind(
        "not-yet-valid",
        "A certificate's notBefore time is still in the future for the verifier, usually because of clock skew.",
        "Synchronize the clocks (NTP) and backdate notBefore by a minute or more when issuing.",
    ),
    FindingKind(
        "expiring-soon",
        "A certificate expires within the warning margin.",
        "Renew it before it expires and check that renewal is automated and reloads the process.",
    ),
    FindingKind(
        "outlives-issuer",
        "A certificate's notAfter is later than its issuer's: the chain stops verifying when the issuer expires.",
        "Renew the issuer before it expires, or issue leaves that end before their issuer does.",
    ),
    # Identity.
    FindingKind(
        "name-mismatch",
        "The DNS name or IP address that the client connects to is not in the certificate's subjectAltName.",
        "Re-issue the certificate with every name clients use (for a Kubernetes Service: svc, svc.ns, "
        "svc.ns.svc and svc.ns.svc.cluster.local).",
    ),
    FindingKind(
        "spiffe-id-mismatch",
        "The certificate's URI SAN does not carry the SPIFFE ID that the peer expects.",
        "Issue the workload certificate for the expected identity (namespace and service account), or update the "
        "peer's expected identity or authorization policy.",
    ),
    FindingKind(
        "cn-only",
        "The certificate has a common name but no subjectAltName; Go 1.15 and later and browsers ignore the common name.",
        "Re-issue the certificate with the name in a subjectAltName DNS entry.",
    ),
    # Purpose.
    FindingKind(
        "wrong-eku",
        "The extendedKeyUsage of a certificate in the chain does not allow the role it is used for "
        "(serverAuth for servers, clientAuth for clients).",
        "Re-issue with the missing usage; mesh workload certificates usually carry both serverAuth and clientAuth.",
    ),
    FindingKind(
        "key-usage",
        "The leaf's keyUsage does not allow the signature that TLS needs (digitalSignature).",
        "Re-issue the leaf with keyUsage digitalSignature (plus keyEncipherment for RSA keys used with TLS 1.2).",
    ),
    # CA constraints.
    FindingKind(
        "issuer-not-ca",
        "A certificate that signed another one is not a CA: basicConstraints is CA:FALSE or absent, or keyUsage "
        "lacks keyCertSign.",
        "Re-issue the issuer as an intermediate CA: basicConstraints CA:TRUE (critical) and keyUsage keyCertSign.",
    ),
    FindingKind(
        "pathlen-exceeded",
        "More intermediate CAs stand below a CA than its pathLenConstraint allows.",
        "Issue leaves directly from the constrained CA, or re-issue that CA with a larger pathLenConstraint.",
    ),
    FindingKind(
        "name-constraints",
        "A name in the certificate is outside the names that a CA above it may sign (nameConstraints).",
        "Issue the certificate from a CA whose permitted subtrees include the name, or use a name inside them.",
    ),
    FindingKind(
        "unknown-critical-extension",
        "A certificate carries an extension marked critical that verifiers do not recognize, so RFC 5280 requires "
        "them to reject it.",
        "Re-issue the certificate without the extension, or mark it non-critical.",
    ),
    FindingKind(
        "aki-ski-mismatch",
        "A certificate's authorityKeyIdentifier does not match the subjectKeyIdentifier of the CA that signed it, "
        "so verifiers do not find its issuer.",
        "Re-issue the certificate so that its authorityKeyIdentifier is the issuer's subjectKeyIdentifier.",
    ),
    # Keys and algorithms.
    FindingKind(
        "key-mismatch",
        "The private key does not belong to the certificate.",
        "Deploy the key that was generated with the certificate's request, or issue a new certificate for this key; "
        "compare the public keys of both before deploying.",
    ),
    FindingKind(
        "weak-key",
        "A key is too small for OpenSSL security level 2 (RSA and DSA below 2048 bits, elliptic curves below 224 "
        "bits), which Python 3.10 and later set in every ssl context and Debian's OpenSSL build uses by default "
        "(upstream OpenSSL 3.0 defaults to level 1).",
        "Re-issue with RSA 2048 or more, or ECDSA P-256.",
    ),
    FindingKind(
        "weak-signature",
        "A certificate is signed with SHA-1 or MD5, which current verifiers reject.",
        "Re-issue the certificate with a SHA-256 or stronger signature.",
    ),
    FindingKind(
        "no-common-signature-algorithm",
        "The certificate's key type needs a signature algorithm that many peers do not offer (Ed25519, Ed448).",
        "Use an ECDSA P-256 or RSA 2048 certificate, or check that every peer lists the algorithm in its "
        "signature_algorithms extension.",
    ),
    # Revocation.
    FindingKind("revoked", "The certificate is listed in its issuer's CRL.", "Issue a new certificate with a new key and deploy it."),
    FindingKind(
        "crl-missing",
        "CRL checking is on, but no valid CRL from the certificate's issuer is available.",
        "Publish and load the current CRL of the issuing CA (the CRL must be signed by the issuer of the certificate).",
    ),
    FindingKind(
        "crl-expired",
        "The issuer's CRL is past its nextUpdate time (or not yet valid), so CRL checks fail for every certificate.",
        "Fetch the issuer's current CRL, and automate CRL refresh before nextUpdate.",
    ),
    # Live connections.
    FindingKind(
        "client-cert-missing",
        "The server requires a client certificate and the client sent none.",
        "Configure the client with a certificate and key (and its chain); in TLS 1.3 the failure shows on the "
        "client's first read, not in its handshake.",
        live_only=True,
    ),
    FindingKind(
        "protocol-mismatch",
        "One side speaks TLS and the other plaintext: not a certificate problem.",
        "Give the caller a sidecar or a TLS client, or use a permissive mode (Istio PERMISSIVE) during migration.",
        live_only=True,
    ),
    FindingKind(
        "stale-served-certificate",
        "The running process serves another certificate than the one on disk, usually an old one it never reloaded.",
        "Reload or restart the process after each renewal, and monitor the expiry of the served certificate.",
    ),
)

FINDINGS: dict[str, FindingKind] = {kind.id: kind for kind in _KINDS}


def runbook_path(finding_id: str) -> str:
    """Return the path of the runbook for ``finding_id``, relative to the repository root."""
    return f"{RUNBOOK_DIRECTORY}/{finding_id}.md"


@dataclass(frozen=True)
class Finding:
    """One problem that diagnose found: its id, severity, message, evidence and fix.

    ``evidence`` names the certificate (subject, serial number and where it was read),
    the field that is wrong and its value.
    """

    id: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    fix: str = ""

    def __post_init__(self) -> None:
        if self.id not in FINDINGS:
            raise ValueError(f"unknown finding id {self.id!r}: add it to FINDINGS first")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}: use error, warning or info")
        if not self.fix:
            object.__setattr__(self, "fix", FINDINGS[self.id].fix)

    @property
    def runbook(self) -> str:
        """The runbook that covers this finding."""
        return runbook_path(self.id)

    def to_dict(self) -> dict:
        """Return the finding as the JSON object that ``--json`` prints."""
        return {
            "id": self.id,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.fix,
            "runbook": self.runbook,
        }
