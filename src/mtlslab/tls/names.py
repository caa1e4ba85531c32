"""Wire codes and their RFC names: content types, handshake types, versions, groups and schemes."""

from __future__ import annotations

# RFC 8446 section 5.1 (ContentType) and RFC 6520 (heartbeat).
CONTENT_TYPES = {
    20: "change_cipher_spec",
    21: "alert",
    22: "handshake",
    23: "application_data",
    24: "heartbeat",
}
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23

# Message names follow the structure names of RFC 5246 section 7.4 and RFC 8446 section 4
# (ClientHello, not client_hello), as Wireshark and scapy show them.
HANDSHAKE_TYPES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    5: "EndOfEarlyData",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    22: "CertificateStatus",
    24: "KeyUpdate",
    254: "message_hash",
}
CLIENT_HELLO, SERVER_HELLO, NEW_SESSION_TICKET, END_OF_EARLY_DATA = 1, 2, 4, 5
ENCRYPTED_EXTENSIONS, CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST = 8, 11, 12, 13
SERVER_HELLO_DONE, CERTIFICATE_VERIFY, CLIENT_KEY_EXCHANGE, FINISHED = 14, 15, 16, 20
KEY_UPDATE, MESSAGE_HASH = 24, 254

# A ServerHello with this random is a HelloRetryRequest (RFC 8446 section 4.1.3).
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

VERSIONS = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
TLS12, TLS13 = 0x0303, 0x0304

# RFC 8446 section 4.2 and the IANA TLS ExtensionType registry.
EXTENSIONS = {
    0: "server_name",
    1: "max_fragment_length",
    5: "status_request",
    10: "supported_groups",
    11: "ec_point_formats",
    13: "signature_algorithms",
    16: "application_layer_protocol_negotiation",
    18: "signed_certificate_timestamp",
    21: "padding",
    22: "encrypt_then_mac",
    23: "extended_master_secret",
    35: "session_ticket",
    41: "pre_shared_key",
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    47: "certificate_authorities",
    49: "post_handshake_auth",
    50: "signature_algorithms_cert",
    51: "key_share",
    65281: "renegotiation_info",
}
EXT_SERVER_NAME, EXT_SIGNATURE_ALGORITHMS, EXT_ALPN, EXT_ENCRYPT_THEN_MAC = 0, 13, 16, 22
EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_PRE_SHARED_KEY, EXT_CERTIFICATE_AUTHORITIES = 43, 51, 41, 47

# RFC 8446 section 4.2.7 and RFC 7919; the hybrid post-quantum group from the IANA registry.
NAMED_GROUPS = {
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    29: "x25519",
    30: "x448",
    256: "ffdhe2048",
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
    0x11EC: "X25519MLKEM768",
}

# RFC 8446 section 4.2.3; TLS 1.2 encodes (hash, signature) pairs in the same two bytes.
SIGNATURE_SCHEMES = {
    0x0201: "rsa_pkcs1_sha1",
    0x0203: "ecdsa_sha1",
    0x0401: "rsa_pkcs1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    # TLS 1.2 (hash, signature) pairs that RFC 8446 does not name; these are OpenSSL's names.
    0x0202: "dsa_sha1",
    0x0301: "rsa_pkcs1_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0402: "dsa_sha256",
    0x0502: "dsa_sha384",
    0x0602: "dsa_sha512",
}

# RFC 5246 section 7.2: warning (1) or fatal (2).
ALERT_LEVELS = {1: "warning", 2: "fatal"}


def name_of(table: dict[int, str], code: int) -> str:
    """Return the RFC name of ``code`` in ``table``, or the code in hex when the table lacks it."""
    return table.get(code, f"0x{code:04x}")


def version_name(code: int | None) -> str | None:
    """Return ``TLS 1.2`` or ``TLS 1.3`` for a wire version, or the hex code of an unknown one."""
    if code is None:
        return None
    return VERSIONS.get(code, f"0x{code:04x}")
