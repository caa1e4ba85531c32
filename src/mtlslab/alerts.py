"""TLS alert descriptions with their RFC names and codes.

The codes and names are those of RFC 8446 section 6 (TLS 1.3), which keeps the TLS 1.2
names of RFC 5246 section 7.2 and adds certificate_required (116) among others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}
ALERT_CODES = {name: code for code, name in ALERT_NAMES.items()}

# OpenSSL reports a received alert as a reason such as TLSV1_ALERT_UNKNOWN_CA,
# SSLV3_ALERT_BAD_CERTIFICATE or TLSV13_ALERT_CERTIFICATE_REQUIRED.
_OPENSSL_ALERT_REASON = re.compile(r"(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)")


@dataclass(frozen=True)
class Alert:
    """A TLS alert: its description code and the RFC name for it."""

    code: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


def alert_from_code(code: int) -> Alert:
    """Return the alert with description ``code``; unknown codes keep the number as their name."""
    return Alert(code, ALERT_NAMES.get(code, f"unknown_alert_{code}"))


def alert_from_ssl_reason(reason: str | None) -> Alert | None:
    """Return the alert that an OpenSSL error reason says was received, or None if it names no alert."""
    if not reason:
        return None
    match = _OPENSSL_ALERT_REASON.search(reason.upper())
    if match is None:
        return None
    name = match.group(1).lower()
    code = ALERT_CODES.get(name)
    return Alert(code, name) if code is not None else None
