"""Cipher suites, the TLS 1.3 and TLS 1.2 key schedules, and record decryption.

TLS 1.3 traffic keys come from the secrets in an NSS key log through HKDF-Expand-Label
(RFC 8446 sections 7.1 and 7.3), and records are protected as in section 5.2. TLS 1.2
keys come from the master secret through the PRF (RFC 5246 sections 5 and 6.3). TLS 1.2
AEAD records follow RFC 5288 and RFC 7905. CBC records follow RFC 5246 section 6.2.3.2,
and RFC 7366 when encrypt_then_mac was negotiated.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305


@dataclass(frozen=True)
class CipherSuite:
    """A cipher suite: its IANA name and what record protection and key derivation need.

    ``protection`` is ``gcm``, ``chacha20``, ``ccm``, ``ccm8`` or ``cbc``. ``hash_name`` is
    the hashlib name of the HKDF hash (TLS 1.3) or PRF hash (TLS 1.2); ``mac_name`` is the
    HMAC hash of a CBC suite.
    """

    code: int
    name: str
    protection: str
    key_length: int
    hash_name: str
    mac_name: str | None = None

    @property
    def tls13(self) -> bool:
        """True for the five TLS 1.3 suites, which name no key exchange or signature."""
        return 0x1301 <= self.code <= 0x1305


def _suite(code, name, protection, key_length, hash_name="sha256", mac_name=None) -> tuple[int, CipherSuite]:
    return code, CipherSuite(code, name, protection, key_length, hash_name, mac_name)


CIPHER_SUITES = dict(
    [
        _suite(0x1301, "TLS_AES_128_GCM_SHA256", "gcm", 16),
        _suite(0x1302, "TLS_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        _suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "chacha20", 32),
        _suite(0x1304, "TLS_AES_128_CCM_SHA256", "ccm", 16),
        _suite(0x1305, "TLS_AES_128_CCM_8_SHA256", "ccm8", 16),
        _suite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "gcm", 16),
        _suite(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        _suite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "gcm", 16),
        _suite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        _suite(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "gcm", 16),
        _suite(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        _suite(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "gcm", 16),
        _suite(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        _suite(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32),
        _suite(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32),
        _suite(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32),
        _suite(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "cbc", 16, mac_name="sha1"),
        _suite(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "cbc", 32, mac_name="sha1"),
        _suite(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "cbc", 16, mac_name="sha1"),
        _suite(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "cbc", 32, mac_name="sha1"),
        _suite(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "cbc", 16, mac_name="sha256"),
        _suite(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "cbc", 32, "sha384", "sha384"),
        _suite(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "cbc", 16, mac_name="sha256"),
        _suite(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "cbc", 32, "sha384", "sha384"),
        _suite(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "cbc", 16, mac_name="sha1"),
        _suite(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "cbc", 32, mac_name="sha1"),
        _suite(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "cbc", 16, mac_name="sha256"),
        _suite(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "cbc", 32, mac_name="sha256"),
        _suite(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "cbc", 16, mac_name="sha1"),
        _suite(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "cbc", 32, mac_name="sha1"),
        _suite(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "cbc", 16, mac_name="sha256"),
        _suite(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "cbc", 32, mac_name="sha256"),
    ]
)

# Signalling values that appear in a ClientHello's list but are not suites (RFC 5746, RFC 7507).
SIGNALLING_SUITES = {0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x5600: "TLS_FALLBACK_SCSV"}


def cipher_suite_name(code: int) -> str:
    """Return the IANA name of a cipher suite code, or the code in hex when the kit does not know it."""
    if code in CIPHER_SUITES:
        return CIPHER_SUITES[code].name
    return SIGNALLING_SUITES.get(code, f"0x{code:04x}")


class DecryptionError(Exception):
    """A record that the keys at hand do not decrypt: wrong key, wrong sequence number or damaged data."""


# --- TLS 1.3 key schedule (RFC 8446 section 7.1) -------------------------------------------


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, hash_name: str) -> bytes:
    """Derive ``length`` bytes with HKDF-Expand-Label: the label gets the ``tls13 `` prefix."""
    full_label = b"tls13 " + label.encode("ascii")
    info = struct.pack("!HB", length, len(full_label)) + full_label + bytes([len(context)]) + context
    output = b""
    block = b""
    counter = 1
    while len(output) < length:
        block = hmac.new(secret, block + info + bytes([counter]), hash_name).digest()
        output += block
        counter += 1
    return output[:length]


def next_traffic_secret(secret: bytes, hash_name: str) -> bytes:
    """Return the application traffic secret after a KeyUpdate (RFC 8446 section 7.2)."""
    return hkdf_expand_label(secret, "traffic upd", b"", hashlib.new(hash_name).digest_size, hash_name)


def finished_verify_data_13(base_key: bytes, transcript_hash: bytes, hash_name: str) -> bytes:
    """Compute a TLS 1.3 Finished verify_data from a handshake traffic secret (RFC 8446 section 4.4.4)."""
    size = hashlib.new(hash_name).digest_size
    finished_key = hkdf_expand_label(base_key, "finished", b"", size, hash_name)
    return hmac.new(finished_key, transcript_hash, hash_name).digest()


def _aead(suite: CipherSuite, key: bytes):
    if suite.protection == "gcm":
        return AESGCM(key)
    if suite.protection == "chacha20":
        return ChaCha20Poly1305(key)
    if suite.protection == "ccm":
        return AESCCM(key)
    if suite.protection == "ccm8":
        return AESCCM(key, tag_length=8)
    raise DecryptionError(f"{suite.name} is not an AEAD suite")


class Tls13RecordKey:
    """The key and IV of one TLS 1.3 traffic secret, with its record sequence number."""

    def __init__(self, suite: CipherSuite, secret: bytes, label: str):
        self.suite = suite
        self.secret = secret
        self.label = label
        self.sequence = 0
        key = hkdf_expand_label(secret, "key", b"", suite.key_length, suite.hash_name)
        self._iv = hkdf_expand_label(secret, "iv", b"", 12, suite.hash_name)
        self._aead = _aead(suite, key)

    def decrypt(self, header: bytes, ciphertext: bytes) -> tuple[int, bytes]:
        """Decrypt one TLSCiphertext; return the inner content type and the content without padding.

        Advances the sequence number only when the record decrypts.
        """
        nonce = (int.from_bytes(self._iv, "big") ^ self.sequence).to_bytes(12, "big")
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, header)
        except (InvalidTag, ValueError):
            raise DecryptionError("authentication tag mismatch") from None
        self.sequence += 1
        # TLSInnerPlaintext: content, then the real content type, then zero padding (section 5.2).
        end = len(plaintext.rstrip(b"\x00"))
        if end == 0:
            raise DecryptionError("the inner plaintext has no content type")
        return plaintext[end - 1], plaintext[: end - 1]


# --- TLS 1.2 key schedule (RFC 5246 section 5 and 6.3) -------------------------------------


def prf12(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    """Compute the TLS 1.2 PRF, P_hash(secret, label + seed), truncated to ``length`` bytes."""
    seed = label + seed
    output = b""
    a = seed
    while len(output) < length:
        a = hmac.new(secret, a, hash_name).digest()
        output += hmac.new(secret, a + seed, hash_name).digest()
    return output[:length]


def finished_verify_data_12(master_secret: bytes, sender: str, handshake_hash: bytes, hash_name: str) -> bytes:
    """Compute a TLS 1.2 Finished verify_data (RFC 5246 section 7.4.9); ``sender`` is client or server."""
    return prf12(master_secret, f"{sender} finished".encode(), handshake_hash, 12, hash_name)


class Tls12RecordKey:
    """One direction's TLS 1.2 write keys, with its record sequence number."""

    def __init__(self, suite: CipherSuite, key: bytes, iv: bytes, mac_key: bytes, encrypt_then_mac: bool):
        self.suite = suite
        self.sequence = 0
        self._key = key
        self._iv = iv
        self._mac_key = mac_key
        self._encrypt_then_mac = encrypt_then_mac
        self._aead = None if suite.protection == "cbc" else _aead(suite, key)

    def decrypt(self, header: bytes, fragment: bytes) -> bytes:
        """Decrypt one TLSCiphertext fragment and return its content; the header gives type and version."""
        if self.suite.protection == "cbc":
            content = self._decrypt_cbc(header, fragment)
        else:
            content = self._decrypt_aead(header, fragment)
        self.sequence += 1
        return content

    def _decrypt_aead(self, header: bytes, fragment: bytes) -> bytes:
        tag_length = 8 if self.suite.protection == "ccm8" else 16
        if self.suite.protection == "chacha20":
            # RFC 7905 section 2: the 12-byte IV XOR the padded sequence number, no explicit nonce.
            nonce = (int.from_bytes(self._iv, "big") ^ self.sequence).to_bytes(12, "big")
            ciphertext = fragment
        else:
            # RFC 5288 section 3: a 4-byte implicit salt and an 8-byte explicit nonce in the record.
            nonce = self._iv + fragment[:8]
            ciphertext = fragment[8:]
        if len(ciphertext) < tag_length:
            raise DecryptionError("the record is shorter than the authentication tag")
        length = len(ciphertext) - tag_length
        aad = struct.pack("!Q", self.sequence) + header[:3] + struct.pack("!H", length)
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except (InvalidTag, ValueError):
            raise DecryptionError("authentication tag mismatch") from None

    def _decrypt_cbc(self, header: bytes, fragment: bytes) -> bytes:
        mac_size = hashlib.new(self.suite.mac_name).digest_size
        if self._encrypt_then_mac:
            fragment, mac = fragment[:-mac_size], fragment[-mac_size:]
            expected = self._mac(header[:3], fragment)
            if not hmac.compare_digest(mac, expected):
                raise DecryptionError("record MAC mismatch")
        if len(fragment) < 32 or len(fragment) % 16:
            raise DecryptionError("the CBC record length is not a whole number of blocks")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(fragment[:16])).decryptor()
        plaintext = decryptor.update(fragment[16:]) + decryptor.finalize()
        padding = plaintext[-1] + 1
        if padding > len(plaintext) or plaintext[-padding:] != bytes([padding - 1]) * padding:
            raise DecryptionError("invalid CBC padding")
        plaintext = plaintext[:-padding]
        if self._encrypt_then_mac:
            return plaintext
        if len(plaintext) < mac_size:
            raise DecryptionError("the record is shorter than its MAC")
        content, mac = plaintext[:-mac_size], plaintext[-mac_size:]
        if not hmac.compare_digest(mac, self._mac(header[:3], content)):
            raise DecryptionError("record MAC mismatch")
        return content

    def _mac(self, type_and_version: bytes, data: bytes) -> bytes:
        message = struct.pack("!Q", self.sequence) + type_and_version + struct.pack("!H", len(data)) + data
        return hmac.new(self._mac_key, message, self.suite.mac_name).digest()


def tls12_record_keys(
    suite: CipherSuite,
    master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    encrypt_then_mac: bool = False,
) -> tuple[Tls12RecordKey, Tls12RecordKey]:
    """Derive the client and server write keys of a TLS 1.2 connection from its master secret."""
    mac_length = hashlib.new(suite.mac_name).digest_size if suite.protection == "cbc" else 0
    iv_length = {"gcm": 4, "ccm": 4, "ccm8": 4, "chacha20": 12, "cbc": 16}[suite.protection]
    size = 2 * (mac_length + suite.key_length + iv_length)
    block = prf12(master_secret, b"key expansion", server_random + client_random, size, suite.hash_name)

    parts = []
    offset = 0
    for length in (mac_length, mac_length, suite.key_length, suite.key_length, iv_length, iv_length):
        parts.append(block[offset : offset + length])
        offset += length
    client_mac, server_mac, client_key, server_key, client_iv, server_iv = parts
    use_etm = encrypt_then_mac and suite.protection == "cbc"
    return (
        Tls12RecordKey(suite, client_key, client_iv, client_mac, use_etm),
        Tls12RecordKey(suite, server_key, server_iv, server_mac, use_etm),
    )
