"""The cryptographic floor: the public-key operations one handshake needs, timed one by one.

A TLS 1.3 handshake with ECDHE does, on each side, one ephemeral key generation and
one shared-secret derivation (X25519 is OpenSSL's first choice). The server signs
its CertificateVerify (RFC 8446 section 4.4.3). The client verifies that signature
and one certificate signature per link of the server's chain: the leaf and each
intermediate; the trust anchor's own signature is not checked. In mTLS the client
also signs, and the server verifies the client's CertificateVerify and chain.

The times come from pyca/cryptography, which calls OpenSSL like Python's ssl does,
so their sum is an estimate of the handshake's cryptographic cost, not a bound.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519

from mtlslab.errors import InputError
from mtlslab.pki.keys import generate_private_key, key_type_of

MESSAGE = b"\x20" * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)


@dataclass(frozen=True)
class OperationTimes:
    """Median seconds for the operations of one key type, and for the X25519 key exchange."""

    key_type: str
    sign: float
    verify: float
    key_exchange: float

    def handshake_floor(self, mutual: bool, intermediates: int) -> dict[str, float]:
        """Estimate each side's cryptographic seconds for one full handshake."""
        chain_verifies = 1 + intermediates
        server = self.key_exchange + self.sign
        client = self.key_exchange + self.verify * (1 + chain_verifies)
        if mutual:
            server += self.verify * (1 + chain_verifies)
            client += self.sign
        return {"client": client, "server": server}


def time_operations(key_type: str, repeat: int = 50, *, private_key=None) -> OperationTimes:
    """Time signing, verifying and an X25519 exchange ``repeat`` times each; keep the medians.

    ``private_key`` times an existing key of ``key_type`` instead of generating one,
    because generating an RSA 4096 key alone can take more than a second.
    """
    key = private_key if private_key is not None else generate_private_key(key_type)
    if key_type_of(key) != key_type:
        raise InputError(f"private_key is of type {key_type_of(key)}, not {key_type}: pass a key of the type to time")
    sign = _signer(key)
    signature = sign()
    verify = _verifier(key.public_key(), signature)
    return OperationTimes(
        key_type=key_type,
        sign=_median_seconds(sign, repeat),
        verify=_median_seconds(verify, repeat),
        key_exchange=_median_seconds(_x25519_exchange(), repeat),
    )


def _signer(key):
    if isinstance(key, rsa.RSAPrivateKey):
        # TLS 1.3 signs with RSA-PSS (RFC 8446 section 4.2.3).
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return lambda: key.sign(MESSAGE, pss, hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda: key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return lambda: key.sign(MESSAGE)
    raise TypeError(f"no signer for {type(key).__name__}")


def _verifier(public_key, signature):
    if isinstance(public_key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return lambda: public_key.verify(signature, MESSAGE, pss, hashes.SHA256())
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return lambda: public_key.verify(signature, MESSAGE, ec.ECDSA(hashes.SHA256()))
    return lambda: public_key.verify(signature, MESSAGE)


def _x25519_exchange():
    """Return one side's share of an exchange: generate an ephemeral key and derive the secret."""
    peer = x25519.X25519PrivateKey.generate().public_key()
    return lambda: x25519.X25519PrivateKey.generate().exchange(peer)


def _median_seconds(operation, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
