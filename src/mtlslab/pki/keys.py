"""Private keys of the types a learner compares, and the signature hash each one uses."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from mtlslab.errors import InputError

# RSA sizes below 2048 bits are accepted so that the troubleshooting scenarios can
# show the "ee key too small" rejection; OpenSSL's default security level 2 refuses them.
KEY_TYPES = (
    "ecdsa-p256",
    "ecdsa-p384",
    "rsa1024",
    "rsa2048",
    "rsa3072",
    "rsa4096",
    "ed25519",
)
DEFAULT_KEY_TYPE = "ecdsa-p256"


def generate_private_key(key_type: str = DEFAULT_KEY_TYPE) -> CertificateIssuerPrivateKeyTypes:
    """Generate a new private key of ``key_type``, one of :data:`KEY_TYPES`."""
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type.startswith("rsa") and key_type in KEY_TYPES:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    raise InputError(f"unknown key type {key_type!r}: use one of {', '.join(KEY_TYPES)}")


def key_type_of(key) -> str:
    """Name the type of a private or public key as :data:`KEY_TYPES` does, for example ``rsa3072``."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        name = f"rsa{key.key_size}"
    elif isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        name = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384"}.get(key.curve.name, key.curve.name)
    elif isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        name = "ed25519"
    else:
        name = type(key).__name__
    if name not in KEY_TYPES:
        raise InputError(f"unsupported key {name!r}: use a key of one of {', '.join(KEY_TYPES)}")
    return name


def default_signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    """Return the hash a CA holding ``key`` signs with: SHA-384 for P-384, none for Ed25519.

    Ed25519 signs the whole message itself (RFC 8032), so cryptography expects no
    separate hash for it.
    """
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def describe_public_key(public_key) -> str:
    """Name a public key the way certificate viewers do, for example ``ECDSA P-256``."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size} bits"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"ECDSA {names.get(public_key.curve.name, public_key.curve.name)}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return type(public_key).__name__
