"""Map TLS error messages to the diagnose findings that cause them.

The table covers what OpenSSL (and Python, curl and nginx, which print OpenSSL's texts),
Go's crypto/tls and crypto/x509, Envoy with BoringSSL, and Java's JSSE print for each
kind of failure. Each message has a rank by how specific it is: a verification error
names its cause (rank 0), a received alert tells only what the peer rejected (rank 1),
and "certificate verify failed" alone names no cause (rank 2). The causes of the most
specific matches come first, and less specific matches add their causes only when
nothing more specific matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mtlslab.alerts import ALERT_CODES, ALERT_NAMES
from mtlslab.diagnose.findings import FINDINGS, runbook_path

SPECIFIC, ALERT, GENERIC = 0, 1, 2

OPENSSL = "OpenSSL (Python, curl, nginx)"
GO = "Go"
BORINGSSL = "Envoy / BoringSSL"
JAVA = "Java"

_CHAIN_NOT_TRUSTED = ("unknown-ca", "missing-intermediate", "self-signed-leaf", "intermediate-anchor")
_ANY_VERIFICATION = (
    "unknown-ca",
    "missing-intermediate",
    "expired",
    "name-mismatch",
    "spiffe-id-mismatch",
    "wrong-eku",
    "not-yet-valid",
    "self-signed-leaf",
    "issuer-not-ca",
    "revoked",
    "weak-key",
    "weak-signature",
)

# OpenSSL X509_V_ERR codes (include/openssl/x509_vfy.h). The texts are those of
# OpenSSL 3.0; OpenSSL 1.1.1 wrote "self signed" without the hyphen and "unsupported
# certificate purpose", and used 24 for "invalid CA certificate", which 3.0 moved to 79.
VERIFY_CODES: dict[int, tuple[str, str, tuple[str, ...]]] = {
    2: ("UNABLE_TO_GET_ISSUER_CERT", "unable to get issuer certificate", ("intermediate-anchor", "missing-intermediate")),
    3: ("UNABLE_TO_GET_CRL", "unable to get certificate CRL", ("crl-missing",)),
    7: ("CERT_SIGNATURE_FAILURE", "certificate signature failure", ("unknown-ca",)),
    8: ("CRL_SIGNATURE_FAILURE", "CRL signature failure", ("crl-missing",)),
    9: ("CERT_NOT_YET_VALID", "certificate is not yet valid", ("not-yet-valid",)),
    10: ("CERT_HAS_EXPIRED", "certificate has expired", ("expired", "stale-served-certificate")),
    11: ("CRL_NOT_YET_VALID", "CRL is not yet valid", ("crl-expired",)),
    12: ("CRL_HAS_EXPIRED", "CRL has expired", ("crl-expired",)),
    18: ("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", ("self-signed-leaf",)),
    19: ("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain", ("unknown-ca",)),
    20: (
        "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        "unable to get local issuer certificate",
        ("unknown-ca", "missing-intermediate", "aki-ski-mismatch"),
    ),
    21: ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate", ("missing-intermediate", "unknown-ca")),
    23: ("CERT_REVOKED", "certificate revoked", ("revoked",)),
    24: ("INVALID_CA", "invalid CA certificate (OpenSSL 1.1.1; 3.0 uses 79)", ("issuer-not-ca",)),
    25: ("PATH_LENGTH_EXCEEDED", "path length constraint exceeded", ("pathlen-exceeded",)),
    26: ("INVALID_PURPOSE", "unsuitable certificate purpose", ("wrong-eku", "key-usage")),
    27: ("CERT_UNTRUSTED", "certificate not trusted", ("unknown-ca",)),
    30: ("AKID_SKID_MISMATCH", "authority and subject key identifier mismatch", ("aki-ski-mismatch",)),
    32: ("KEYUSAGE_NO_CERTSIGN", "key usage does not include certificate signing", ("issuer-not-ca",)),
    34: ("UNHANDLED_CRITICAL_EXTENSION", "unhandled critical extension", ("unknown-critical-extension",)),
    47: ("PERMITTED_VIOLATION", "permitted subtree violation", ("name-constraints",)),
    48: ("EXCLUDED_VIOLATION", "excluded subtree violation", ("name-constraints",)),
    62: ("HOSTNAME_MISMATCH", "hostname mismatch", ("name-mismatch", "cn-only")),
    64: ("IP_ADDRESS_MISMATCH", "IP address mismatch", ("name-mismatch",)),
    66: ("EE_KEY_TOO_SMALL", "EE certificate key too weak", ("weak-key",)),
    67: ("CA_KEY_TOO_SMALL", "CA certificate key too weak", ("weak-key",)),
    68: ("CA_MD_TOO_WEAK", "CA signature digest algorithm too weak", ("weak-signature",)),
    79: ("INVALID_CA", "invalid CA certificate", ("issuer-not-ca",)),
}

# Likely causes of each received alert, by alert code (RFC 8446 section 6.2).
ALERT_CAUSES: dict[int, tuple[str, ...]] = {
    40: ("client-cert-missing", "no-common-signature-algorithm"),
    42: ("name-mismatch", "not-yet-valid", "cn-only", "weak-key", "weak-signature", "unknown-ca"),
    43: ("wrong-eku", "key-usage"),
    44: ("revoked",),
    45: ("expired", "stale-served-certificate", "crl-expired"),
    46: ("unknown-ca", "missing-intermediate", "expired", "wrong-eku", "name-constraints", "unknown-critical-extension", "spiffe-id-mismatch"),
    48: (
        "unknown-ca",
        "missing-intermediate",
        "self-signed-leaf",
        "intermediate-anchor",
        "issuer-not-ca",
        "pathlen-exceeded",
        "aki-ski-mismatch",
        "crl-missing",
    ),
    116: ("client-cert-missing",),
}

# The texts Go's crypto/tls prints after "remote error: tls: " for a received alert.
GO_ALERT_TEXTS = {
    "handshake failure": 40,
    "bad certificate": 42,
    "unsupported certificate": 43,
    "revoked certificate": 44,
    "expired certificate": 45,
    "unknown certificate authority": 48,
    "unknown certificate": 46,
    "certificate required": 116,
}

# OpenSSL and BoringSSL error reasons (SSL_R_*, X509_R_*) and the causes they point to.
# OpenSSL prints them in lower case with spaces ("key values mismatch"), BoringSSL and
# Python in upper case with underscores ("[X509: KEY_VALUES_MISMATCH]").
REASONS: dict[str, tuple[int, tuple[str, ...], str]] = {
    "CERTIFICATE_VERIFY_FAILED": (GENERIC, _ANY_VERIFICATION, "this side rejected the peer's certificate"),
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": (SPECIFIC, ("client-cert-missing",), "the server requires a client certificate and got none"),
    "KEY_VALUES_MISMATCH": (SPECIFIC, ("key-mismatch",), "the private key does not belong to the certificate"),
    "EE_KEY_TOO_SMALL": (SPECIFIC, ("weak-key",), "the leaf's key is below the security level (level 2 in Python 3.10 and later and Debian's OpenSSL; upstream OpenSSL 3.0 defaults to 1)"),
    "CA_KEY_TOO_SMALL": (SPECIFIC, ("weak-key",), "a CA key in the chain is below the security level (level 2 in Python 3.10 and later and Debian's OpenSSL; upstream OpenSSL 3.0 defaults to 1)"),
    "CA_MD_TOO_WEAK": (SPECIFIC, ("weak-signature",), "a certificate is signed with a hash below the security level (SHA-1, MD5)"),
    "NO_SUITABLE_SIGNATURE_ALGORITHM": (
        SPECIFIC,
        ("no-common-signature-algorithm",),
        "the peer offers no signature algorithm that fits this certificate's key",
    ),
    "NO_SHARED_SIGNATURE_ALGORITHMS": (SPECIFIC, ("no-common-signature-algorithm",), "the peers share no signature algorithm"),
    "NO_COMMON_SIGNATURE_ALGORITHMS": (SPECIFIC, ("no-common-signature-algorithm",), "the peers share no signature algorithm"),
    "NO_SHARED_CIPHER": (
        SPECIFIC,
        ("no-common-signature-algorithm",),
        "no TLS 1.2 cipher suite fits both the client's offer and the server certificate's key",
    ),
    "HTTP_REQUEST": (SPECIFIC, ("protocol-mismatch",), "a plaintext HTTP request reached a TLS port"),
    "HTTPS_PROXY_REQUEST": (SPECIFIC, ("protocol-mismatch",), "a plaintext HTTP CONNECT request reached a TLS port"),
    "WRONG_VERSION_NUMBER": (SPECIFIC, ("protocol-mismatch",), "the bytes received are not a TLS record: the other side speaks plaintext"),
    "UNKNOWN_PROTOCOL": (SPECIFIC, ("protocol-mismatch",), "the bytes received are not a TLS record: the other side speaks plaintext"),
    "UNEXPECTED_EOF_WHILE_READING": (
        GENERIC,
        ("protocol-mismatch", "client-cert-missing"),
        "the peer closed the connection without a TLS alert",
    ),
    "TLSV1_CERTIFICATE_REQUIRED": (ALERT, ("client-cert-missing",), "the server required a client certificate (alert 116)"),
}


@dataclass(frozen=True)
class Rule:
    """A message that a TLS stack prints, as a regular expression, with its meaning and likely causes."""

    stack: str
    pattern: str
    meaning: str
    causes: tuple[str, ...]
    rank: int = SPECIFIC


RULES: tuple[Rule, ...] = (
    # OpenSSL verification results, as Python, curl and s_client print them.
    *(
        Rule(OPENSSL, re.escape(text.split(" (")[0]).replace(r"self\-signed", "self[- ]signed"), f"OpenSSL verify error {code}: {text}", causes)
        for code, (_, text, causes) in VERIFY_CODES.items()
        if code not in (19, 18, 2, 10, 24)
    ),
    Rule(OPENSSL, r"self[- ]signed certificate in certificate chain", "OpenSSL verify error 19: the chain ends at a root the verifier does not trust", ("unknown-ca",)),
    Rule(OPENSSL, r"self[- ]signed certificate(?! in certificate chain)", "OpenSSL verify error 18: the leaf is self-signed and not trusted", ("self-signed-leaf",)),
    Rule(OPENSSL, r"(?<!local )unable to get issuer certificate", "OpenSSL verify error 2: a trusted CA's issuer is missing from the trust store", ("intermediate-anchor", "missing-intermediate")),
    Rule(OPENSSL, r"certificate has expired(?! or is not yet valid)", "OpenSSL verify error 10: a certificate in the chain has expired", ("expired", "stale-served-certificate")),
    Rule(OPENSSL, r"unsupported certificate purpose", "OpenSSL 1.1.1 verify error 26: extendedKeyUsage or keyUsage forbids this role", ("wrong-eku", "key-usage")),
    Rule(OPENSSL, r"Hostname mismatch, certificate is not valid for", "Python: the server certificate does not name the host the client connects to", ("name-mismatch", "cn-only")),
    Rule(OPENSSL, r"certificate verify failed", "this side rejected the peer's certificate; the text after it names the reason", _ANY_VERIFICATION, GENERIC),
    # Go.
    Rule(GO, r"certificate signed by unknown authority", "the chain does not lead to a root in the verifier's pool", _CHAIN_NOT_TRUSTED),
    Rule(GO, r"while trying to verify candidate authority certificate", "a CA with the right name is trusted but its key did not verify the signature (rotated CA)", ("unknown-ca",)),
    # The time comparison that Go 1.16 and later append decides between the two causes.
    Rule(GO, r"certificate has expired or is not yet valid", "a certificate is outside its validity period", ("expired", "not-yet-valid", "stale-served-certificate"), GENERIC),
    Rule(GO, r"current time \S+ is after \S+", "the certificate has expired", ("expired", "stale-served-certificate")),
    Rule(GO, r"current time \S+ is before \S+", "the certificate is not valid yet (clock skew)", ("not-yet-valid",)),
    Rule(GO, r"certificate is valid for .+, not \S+", "the name the client uses is not in the certificate's SAN", ("name-mismatch",)),
    Rule(GO, r"certificate is not valid for any names, but wanted to match", "the certificate has no SAN at all", ("cn-only", "name-mismatch")),
    Rule(GO, r"relies on legacy Common Name field", "the certificate has a common name but no SAN", ("cn-only",)),
    Rule(GO, r"because it doesn't contain any IP SANs", "the client connects by IP address and the certificate has no IP SAN", ("name-mismatch",)),
    Rule(GO, r"certificate specifies an incompatible key usage", "extendedKeyUsage lacks serverAuth or clientAuth for this role", ("wrong-eku",)),
    Rule(GO, r"certificate is not authorized to sign other certificates", "an issuer in the chain is not a CA", ("issuer-not-ca",)),
    Rule(GO, r"too many intermediates for path length constraint", "a CA's pathLenConstraint is exceeded", ("pathlen-exceeded",)),
    Rule(GO, r"not authorized to sign for this name|is not permitted by any constraint|is excluded by constraint", "a name is outside a CA's nameConstraints", ("name-constraints",)),
    Rule(GO, r"insecure algorithm", "a certificate is signed with SHA-1 or MD5", ("weak-signature",)),
    Rule(GO, r"private key does not match public key", "the key does not belong to the certificate", ("key-mismatch",)),
    Rule(GO, r"client didn't provide a certificate", "the server requires a client certificate and got none", ("client-cert-missing",)),
    Rule(GO, r"first record does not look like a TLS handshake", "a TLS client got plaintext from the server", ("protocol-mismatch",)),
    Rule(GO, r"server gave HTTP response to HTTPS client", "a TLS client reached a plaintext HTTP port", ("protocol-mismatch",)),
    Rule(GO, r"client sent an HTTP request to an HTTPS server", "a plaintext client reached a TLS port", ("protocol-mismatch",)),
    Rule(GO, r"peer doesn't support any of the certificate's signature algorithms", "the peer does not offer a signature algorithm for this key type", ("no-common-signature-algorithm",)),
    # Envoy.
    Rule("mtlslab", r"SPIFFE ID mismatch", "the kit's identity check found another SPIFFE ID than the expected one", ("spiffe-id-mismatch",)),
    Rule(BORINGSSL, r"verify cert failed: SAN matcher", "Envoy verified the chain but the SAN (SPIFFE ID or DNS name) is not the expected one", ("spiffe-id-mismatch", "name-mismatch")),
    # Java.
    Rule(JAVA, r"PKIX path building failed|unable to find valid certification path to requested target", "no path from the certificate to a trusted root", _CHAIN_NOT_TRUSTED),
    Rule(JAVA, r"Path does not chain with any of the trust anchors", "the chain leads to a root that is not in the trust store", ("unknown-ca",)),
    Rule(JAVA, r"CertificateExpiredException|NotAfter: ", "a certificate has expired", ("expired", "stale-served-certificate")),
    Rule(JAVA, r"CertificateNotYetValidException|NotBefore: ", "a certificate is not valid yet", ("not-yet-valid",)),
    Rule(JAVA, r"validity check failed", "a certificate is outside its validity period", ("expired", "not-yet-valid")),
    Rule(JAVA, r"Extended key usage does not permit use for TLS (?:client|server) authentication", "extendedKeyUsage lacks clientAuth or serverAuth", ("wrong-eku",)),
    Rule(JAVA, r"KeyUsage does not allow (?:digital signatures|key encipherment|key agreement)", "keyUsage forbids the use TLS needs", ("key-usage",)),
    Rule(JAVA, r"No subject alternative DNS name matching", "the host name is not in the SAN", ("name-mismatch",)),
    Rule(JAVA, r"No subject alternative names matching IP address", "the IP address is not in the SAN", ("name-mismatch",)),
    Rule(JAVA, r"No subject alternative names present", "the certificate has no SAN", ("cn-only",)),
    Rule(JAVA, r"No name matching \S+ found", "the host name matches neither the SAN nor the common name", ("name-mismatch", "cn-only")),
    Rule(JAVA, r"Algorithm constraints check failed on signature algorithm", "a signature algorithm is disabled (SHA-1, MD5)", ("weak-signature",)),
    Rule(JAVA, r"Algorithm constraints check failed on keysize", "a key is smaller than jdk.certpath.disabledAlgorithms allows", ("weak-key",)),
    Rule(JAVA, r"Certificate has been revoked", "the certificate is revoked", ("revoked",)),
    Rule(JAVA, r"basic constraints check failed: this is not a CA certificate", "an issuer in the chain is not a CA", ("issuer-not-ca",)),
    Rule(JAVA, r"pathLenConstraint violated", "a CA's pathLenConstraint is exceeded", ("pathlen-exceeded",)),
    Rule(JAVA, r"Certificate contains unsupported critical extensions", "a certificate has a critical extension Java does not process", ("unknown-critical-extension",)),
    Rule(JAVA, r"Empty client certificate chain|null cert chain", "the server requires a client certificate and got none", ("client-cert-missing",)),
    Rule(JAVA, r"Unrecognized SSL message, plaintext connection\?", "a TLS client got plaintext", ("protocol-mismatch",)),
    Rule(JAVA, r"No available authentication scheme", "no signature scheme fits the certificate's key and the peer's offer", ("no-common-signature-algorithm",)),
    Rule(JAVA, r"PKIX path validation failed", "a path was found but a check on it failed; the text after it names the check", _ANY_VERIFICATION, GENERIC),
)

_COMPILED = tuple((rule, re.compile(rule.pattern, re.IGNORECASE)) for rule in RULES)
_VERIFY_NUMBER = re.compile(r"(?:verify error:num=|verify return code: |error (?=\d+ at \d+ depth))(\d+)", re.IGNORECASE)
_VERIFY_NAME = re.compile(r"\b(?:X509_V_ERR_)?(" + "|".join(sorted({name for name, _, _ in VERIFY_CODES.values()}, key=len, reverse=True)) + r")\b")
_ALERT_TEXT = re.compile(r"\b(?:sslv3|tlsv1|tlsv13) alert ([a-z][a-z ]*[a-z])", re.IGNORECASE)
_ALERT_REASON = re.compile(r"\b(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)\b")
_ALERT_NUMBER = re.compile(r"SSL alert number (\d+)", re.IGNORECASE)
_JAVA_ALERT = re.compile(r"Received fatal alert: ([a-z_]+)")
_ALERT_CODE = re.compile(r"\balert (?:number )?(\d+)\b", re.IGNORECASE)
_ALERT_NAME = re.compile(r"\b(" + "|".join(name for code, name in ALERT_NAMES.items() if code in ALERT_CAUSES) + r")\b")
_GO_ALERT = re.compile(r"remote error: tls: ([a-z ]+)", re.IGNORECASE)
_BORINGSSL_CODE = re.compile(r"TLS[_ ]error:?\s*\|?(\d{6,})\s*:", re.IGNORECASE)
_REASON_WORD = re.compile(r"\b(" + "|".join(sorted(REASONS, key=len, reverse=True)) + r")\b")
_REASON_TEXT = re.compile(r"\b(" + "|".join(reason.lower().replace("_", " ") for reason in sorted(REASONS, key=len, reverse=True)) + r")\b", re.IGNORECASE)

# BoringSSL packs errors as library << 24 | reason; library 16 is SSL, and reasons from
# 1000 up are received alerts (1000 + alert code), which Envoy prints as numbers.
_BORINGSSL_SSL_LIBRARY = 16
_BORINGSSL_ALERT_OFFSET = 1000


@dataclass(frozen=True)
class Match:
    """One message recognized in the error text: the stack that prints it, what it means and its likely causes."""

    stack: str
    message: str
    meaning: str
    causes: tuple[str, ...]
    rank: int

    def to_dict(self) -> dict:
        """Return the match as a JSON object."""
        return {"stack": self.stack, "message": self.message, "meaning": self.meaning, "causes": list(self.causes)}


@dataclass
class Explanation:
    """The messages recognized in an error text and the finding ids of their likely causes, most likely first."""

    text: str
    matches: list[Match] = field(default_factory=list)

    @property
    def causes(self) -> list[str]:
        """The finding ids of the most specific matches, in order, without repeats."""
        if not self.matches:
            return []
        best = min(match.rank for match in self.matches)
        ordered: list[str] = []
        for match in self.matches:
            if match.rank == best:
                ordered += [cause for cause in match.causes if cause not in ordered]
        return ordered

    def to_dict(self) -> dict:
        """Return the explanation as the JSON object that ``explain --json`` prints."""
        return {
            "text": self.text,
            "matches": [match.to_dict() for match in self.matches],
            "causes": [
                {"id": cause, "description": FINDINGS[cause].description, "fix": FINDINGS[cause].fix, "runbook": runbook_path(cause)}
                for cause in self.causes
            ],
        }


def explain(text: str) -> Explanation:
    """Recognize every known message in ``text`` and return them, most specific first."""
    explanation = Explanation(text)
    matches: list[Match] = []

    for rule, pattern in _COMPILED:
        found = pattern.search(text)
        if found:
            matches.append(Match(rule.stack, found.group(0), rule.meaning, rule.causes, rule.rank))
    matches += _verify_codes(text)
    matches += _reasons(text)
    matches += _alerts(text)

    # A message can match twice, as a rule and as an OpenSSL reason in lower case
    # ("certificate verify failed"), so only the first match, the rule's, is kept.
    seen = set()
    for match in sorted(matches, key=lambda match: match.rank):
        keys = {(match.meaning, match.causes), (match.message.lower(), match.causes)}
        if not keys & seen:
            seen |= keys
            explanation.matches.append(match)
    return explanation


def _verify_codes(text: str) -> list[Match]:
    matches = []
    for found in _VERIFY_NUMBER.finditer(text):
        code = int(found.group(1))
        if code in VERIFY_CODES:
            _, meaning, causes = VERIFY_CODES[code]
            matches.append(Match(OPENSSL, found.group(0), f"OpenSSL verify error {code}: {meaning}", causes, SPECIFIC))
    names = {name: code for code, (name, _, _) in VERIFY_CODES.items() if code != 24}
    for found in _VERIFY_NAME.finditer(text):
        code = names[found.group(1)]
        _, meaning, causes = VERIFY_CODES[code]
        matches.append(Match(OPENSSL, found.group(0), f"OpenSSL verify error {code}: {meaning}", causes, SPECIFIC))
    return matches


def _reasons(text: str) -> list[Match]:
    matches = []
    for found in list(_REASON_WORD.finditer(text)) + list(_REASON_TEXT.finditer(text)):
        reason = found.group(1).upper().replace(" ", "_")
        rank, causes, meaning = REASONS[reason]
        stack = BORINGSSL if "OPENSSL_internal" in text else OPENSSL
        matches.append(Match(stack, found.group(0), meaning, causes, rank))
    for found in _BORINGSSL_CODE.finditer(text):
        packed = int(found.group(1))
        library, reason = packed >> 24, packed & 0xFFF
        if library == _BORINGSSL_SSL_LIBRARY and reason >= _BORINGSSL_ALERT_OFFSET:
            code = reason - _BORINGSSL_ALERT_OFFSET
            matches += _alert_match(BORINGSSL, found.group(0), code)
    return matches


def _alerts(text: str) -> list[Match]:
    matches = []
    for found in _ALERT_TEXT.finditer(text):
        words = found.group(1).lower().split()
        # Take the longest run of words that names an alert: "bad certificate", not "bad certificate ssl".
        for end in range(len(words), 0, -1):
            code = ALERT_CODES.get("_".join(words[:end]))
            if code is not None:
                matches += _alert_match(OPENSSL, found.group(0), code)
                break
    for found in _ALERT_REASON.finditer(text):
        code = ALERT_CODES.get(found.group(1).lower())
        if code is not None:
            matches += _alert_match(BORINGSSL if "OPENSSL_internal" in text else OPENSSL, found.group(0), code)
    for found in _ALERT_NUMBER.finditer(text):
        matches += _alert_match(OPENSSL, found.group(0), int(found.group(1)))
    for found in _JAVA_ALERT.finditer(text):
        code = ALERT_CODES.get(found.group(1))
        if code is not None:
            matches += _alert_match(JAVA, found.group(0), code)
    for found in _GO_ALERT.finditer(text):
        phrase = found.group(1).lower()
        for alert_text in sorted(GO_ALERT_TEXTS, key=len, reverse=True):
            if phrase.startswith(alert_text):
                matches += _alert_match(GO, found.group(0), GO_ALERT_TEXTS[alert_text])
                break
    # Alerts as the RFCs and packet dissectors name them: "alert 48", "certificate_required".
    for found in _ALERT_CODE.finditer(text):
        matches += _alert_match("TLS (RFC 8446)", found.group(0), int(found.group(1)))
    for found in _ALERT_NAME.finditer(text):
        matches += _alert_match("TLS (RFC 8446)", found.group(0), ALERT_CODES[found.group(1)])
    return matches


def _alert_match(stack: str, message: str, code: int) -> list[Match]:
    causes = ALERT_CAUSES.get(code)
    if causes is None:
        return []
    name = ALERT_NAMES.get(code, str(code))
    meaning = f"this side received alert {name} ({code}): the peer rejected the connection"
    return [Match(stack, message, meaning, causes, ALERT)]


def format_explanation(explanation: Explanation) -> str:
    """Format the explanation as text: the recognized messages, then each likely cause with its runbook."""
    if not explanation.matches:
        return (
            "No known TLS error message found in the text. Pass the whole error line, or check the files "
            "with: mtlslab diagnose --cert CERT --ca CA"
        )
    lines = ["Recognized:"]
    lines += [f"  [{match.stack}] {match.message!r}: {match.meaning}" for match in explanation.matches]
    lines += ["", "Likely causes, most likely first:"]
    for cause in explanation.causes:
        kind = FINDINGS[cause]
        lines.append(f"  {cause}: {kind.description}")
        lines.append(f"    fix: {kind.fix}")
        lines.append(f"    runbook: {runbook_path(cause)}")
    return "\n".join(lines)
