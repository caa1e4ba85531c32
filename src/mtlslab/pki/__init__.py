"""Certificate authorities, certificates and TLS contexts for the workshop.

>>> root = CertificateAuthority.create_root()
>>> issuer = root.create_intermediate()
>>> server = issuer.issue_server("localhost")
>>> client = issuer.issue_client(spiffe_id="spiffe://example.org/ns/demo/sa/web")
"""

from mtlslab.pki.authority import (
    CLOCK_SKEW_ALLOWANCE,
    EXTENDED_KEY_USAGES,
    KEY_USAGES,
    CertificateAuthority,
    Credential,
)
from mtlslab.pki.contexts import client_context, configure_trust, server_context
from mtlslab.pki.files import load_certificates, load_private_key, parse_certificates, write_credential, write_file
from mtlslab.pki.crl import issue_crl
from mtlslab.pki.keys import DEFAULT_KEY_TYPE, KEY_TYPES, generate_private_key
from mtlslab.pki.renew import renew, renew_root, same_key
from mtlslab.pki.spiffe import istio_spiffe_id, validate_spiffe_id
from mtlslab.pki.summary import CertificateSummary, format_duration, summarize
from mtlslab.pki.verify import VerificationError, verify_client_chain, verify_server_chain

__all__ = [
    "CLOCK_SKEW_ALLOWANCE",
    "DEFAULT_KEY_TYPE",
    "EXTENDED_KEY_USAGES",
    "KEY_TYPES",
    "KEY_USAGES",
    "CertificateAuthority",
    "CertificateSummary",
    "Credential",
    "VerificationError",
    "client_context",
    "configure_trust",
    "format_duration",
    "generate_private_key",
    "issue_crl",
    "istio_spiffe_id",
    "load_certificates",
    "load_private_key",
    "parse_certificates",
    "renew",
    "renew_root",
    "same_key",
    "server_context",
    "summarize",
    "validate_spiffe_id",
    "verify_client_chain",
    "verify_server_chain",
    "write_credential",
    "write_file",
]
