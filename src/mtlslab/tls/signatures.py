"""Signature checks that a TLS peer makes: CertificateVerify and ServerKeyExchange.

TLS 1.3 signs 64 spaces, a context string, a zero byte and the transcript hash (RFC 8446
section 4.4.3). TLS 1.2 signs all handshake messages so far in a CertificateVerify (RFC
5246 section 7.4.8) and the two randoms plus the key exchange parameters in a
ServerKeyExchange (RFC 5246 section 7.4.3, RFC 8422 section 5.4).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from mtlslab.tls.names import SIGNATURE_SCHEMES, name_of

SERVER_CONTEXT = b"TLS 1.3, server CertificateVerify"
CLIENT_CONTEXT = b"TLS 1.3, client CertificateVerify"

# rsa_pss_rsae_* and rsa_pss_pss_* schemes and their hash.
_PSS_HASHES = {
    0x0804: hashes.SHA256,
    0x0805: hashes.SHA384,
    0x0806: hashes.SHA512,
    0x0809: hashes.SHA256,
    0x080A: hashes.SHA384,
    0x080B: hashes.SHA512,
}
# The high byte of a TLS 1.2 SignatureAndHashAlgorithm names the hash (RFC 5246 section 7.4.1.4.1).
_HASHES = {0x02: hashes.SHA1, 0x04: hashes.SHA256, 0x05: hashes.SHA384, 0x06: hashes.SHA512}


class SignatureCheckError(Exception):
    """A signature that does not verify, or one the kit cannot check; the message tells which."""


def certificate_verify_content(sender: str, transcript_hash: bytes) -> bytes:
    """Build the bytes a TLS 1.3 CertificateVerify signs; ``sender`` is client or server."""
    context = SERVER_CONTEXT if sender == "server" else CLIENT_CONTEXT
    return b" " * 64 + context + b"\x00" + transcript_hash


def verify_signature(public_key, scheme: int, signature: bytes, data: bytes) -> None:
    """Verify ``signature`` over ``data`` with a public key, or a certificate's key, under a TLS SignatureScheme.

    Raises SignatureCheckError when the signature does not verify, when the scheme does not
    fit the key type, or when the kit does not know the scheme.
    """
    scheme_name = name_of(SIGNATURE_SCHEMES, scheme)
    if isinstance(public_key, x509.Certificate):
        try:
            public_key = public_key.public_key()
        except (ValueError, UnsupportedAlgorithm) as error:
            raise SignatureCheckError(f"the certificate's key cannot be loaded: {error}") from None
    try:
        _verify(public_key, scheme, signature, data)
    except InvalidSignature:
        raise SignatureCheckError(f"the {scheme_name} signature does not verify with the certificate's key") from None
    except (TypeError, ValueError) as error:
        raise SignatureCheckError(f"the {scheme_name} signature cannot be checked: {error}") from None


def _verify(public_key, scheme: int, signature: bytes, data: bytes) -> None:
    if scheme == 0x0807:
        _require(public_key, ed25519.Ed25519PublicKey, scheme)
        public_key.verify(signature, data)
        return
    if scheme == 0x0808:
        _require(public_key, ed448.Ed448PublicKey, scheme)
        public_key.verify(signature, data)
        return
    if scheme in _PSS_HASHES:
        _require(public_key, rsa.RSAPublicKey, scheme)
        algorithm = _PSS_HASHES[scheme]()
        # RFC 8446 section 4.2.3: the PSS salt is as long as the digest.
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        public_key.verify(signature, data, pss, algorithm)
        return

    hash_code, signature_code = scheme >> 8, scheme & 0xFF
    if hash_code not in _HASHES:
        raise ValueError("unknown signature scheme")
    algorithm = _HASHES[hash_code]()
    if signature_code == 0x01:
        _require(public_key, rsa.RSAPublicKey, scheme)
        public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif signature_code == 0x03:
        _require(public_key, ec.EllipticCurvePublicKey, scheme)
        public_key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        raise ValueError("unknown signature scheme")


def _require(public_key, key_type, scheme: int) -> None:
    if not isinstance(public_key, key_type):
        raise TypeError(f"the certificate's key is not a key for {name_of(SIGNATURE_SCHEMES, scheme)}")
