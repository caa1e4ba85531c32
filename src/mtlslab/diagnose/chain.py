"""Build the certification path from a leaf to a trust anchor, the way OpenSSL looks for issuers.

The path builder records why it stopped instead of raising, so that diagnose can name
the exact certificate at fault: an issuer that no peer sent, a root that is not trusted,
a trust anchor that has the right name but another key, an intermediate used as a trust
anchor, or an authority key identifier that points at another key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from mtlslab.diagnose.inputs import Entry

# The longest path the builder follows; OpenSSL's default depth limit is 100, but no
# real mTLS chain has more than a few CAs, and a loop must end.
MAX_PATH_LENGTH = 10

# End states of a path.
TRUSTED = "trusted"  # at a self-signed trust anchor (or a pinned leaf)
TRUSTED_INTERMEDIATE = "trusted-intermediate"  # at an anchor that is not self-signed
UNTRUSTED_ROOT = "untrusted-root"  # at a self-signed certificate not in the trust bundle
ISSUER_NOT_FOUND = "issuer-not-found"  # no certificate with the issuer's name anywhere
ISSUER_KEY_DIFFERS = "issuer-key-differs"  # certificates with the issuer's name, none with its key
NO_ANCHORS = "no-anchors"  # no trust bundle given
TOO_LONG = "too-long"


@dataclass
class CertificationPath:
    """The certificates from the leaf upwards, how the path ends, and the AKI mismatches met on the way.

    ``same_name_candidates`` holds, when the path ends with ISSUER_KEY_DIFFERS, the
    certificates that carry the issuer's name but did not sign the top certificate;
    ``same_name_anchors`` holds those of them that come from the trust bundle.
    ``aki_mismatches`` lists (child, issuer) pairs where the issuer signed the child but
    the child's authorityKeyIdentifier names another key.
    """

    entries: list[Entry]
    end: str
    anchor_index: int | None = None
    same_name_candidates: list[Entry] = field(default_factory=list)
    same_name_anchors: list[Entry] = field(default_factory=list)
    aki_mismatches: list[tuple[Entry, Entry]] = field(default_factory=list)

    @property
    def top(self) -> Entry:
        """The last certificate of the path: the anchor when the path is trusted."""
        return self.entries[-1]

    @property
    def trusted(self) -> bool:
        """True when the path ends at a certificate from the trust bundle."""
        return self.end in (TRUSTED, TRUSTED_INTERMEDIATE)


class CertificatePool:
    """Certificates indexed by subject name, for issuer look-ups in a large trust bundle."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._by_subject: dict[bytes, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            self._by_subject[entry.certificate.subject.public_bytes()].append(entry)

    def named(self, name: x509.Name) -> list[Entry]:
        """Return the certificates whose subject is ``name``."""
        return self._by_subject.get(name.public_bytes(), [])

    def __contains__(self, certificate: x509.Certificate) -> bool:
        return any(entry.certificate == certificate for entry in self.named(certificate.subject))

    def __bool__(self) -> bool:
        return bool(self.entries)


def signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s public key verifies ``certificate``'s signature.

    This also accepts SHA-1 and MD5 signatures, which ``verify_directly_issued_by``
    rejects, so that diagnose can find the issuer first and then report the weak hash.
    """
    public_key = issuer.public_key()
    signature = certificate.signature
    data = certificate.tbs_certificate_bytes
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, certificate.signature_algorithm_parameters, certificate.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, certificate.signature_algorithm_parameters)
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(signature, data)
        elif isinstance(public_key, dsa.DSAPublicKey):
            public_key.verify(signature, data, certificate.signature_hash_algorithm)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def is_self_signed(certificate: x509.Certificate) -> bool:
    """True when the certificate names itself as issuer and its own key verifies its signature."""
    return certificate.subject == certificate.issuer and signed_by(certificate, certificate)


def key_identifier_mismatch(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``child``'s authorityKeyIdentifier and ``issuer``'s subjectKeyIdentifier are both present and differ."""
    try:
        authority = child.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        subject = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return authority is not None and authority != subject


def build_path(leaf: Entry, intermediates: Iterable[Entry], anchors: CertificatePool) -> CertificationPath:
    """Follow issuers from ``leaf``, looking in the trust bundle first and then among ``intermediates``.

    Trust anchors come first, as with OpenSSL's default X509_V_FLAG_TRUSTED_FIRST. A
    candidate issuer must carry the issuer's name and verify the signature. One whose
    subjectKeyIdentifier differs from the child's authorityKeyIdentifier is recorded as
    a mismatch and still followed, so that the remaining checks can run.
    """
    pool = CertificatePool(intermediates)
    path = CertificationPath(entries=[leaf], end=NO_ANCHORS)
    # An anchor that is not self-signed ends the path only when nothing above it is
    # found, because OpenSSL keeps looking for a self-signed root above it.
    partial_anchor: int | None = None
    current = leaf
    while True:
        certificate = current.certificate
        trusted = bool(anchors) and certificate in anchors
        if is_self_signed(certificate):
            if trusted:
                path.end, path.anchor_index = TRUSTED, len(path.entries) - 1
            else:
                path.end = UNTRUSTED_ROOT if anchors else NO_ANCHORS
            return _fall_back_to(path, partial_anchor)
        if trusted and partial_anchor is None:
            partial_anchor = len(path.entries) - 1
        if len(path.entries) >= MAX_PATH_LENGTH:
            path.end = TOO_LONG
            return _fall_back_to(path, partial_anchor)

        seen = [entry.certificate for entry in path.entries]
        named = [
            entry
            for entry in anchors.named(certificate.issuer) + pool.named(certificate.issuer)
            if entry.certificate not in seen
        ]
        signers = [entry for entry in named if signed_by(certificate, entry.certificate)]
        if not signers:
            path.same_name_candidates = named
            path.same_name_anchors = [entry for entry in named if entry.certificate in anchors]
            if not anchors:
                path.end = NO_ANCHORS
            else:
                path.end = ISSUER_KEY_DIFFERS if named else ISSUER_NOT_FOUND
            return _fall_back_to(path, partial_anchor)

        # Prefer a signer whose key identifier matches, as OpenSSL's issuer check does.
        matching = [entry for entry in signers if not key_identifier_mismatch(certificate, entry.certificate)]
        issuer = (matching or signers)[0]
        if not matching:
            path.aki_mismatches.append((current, issuer))
        path.entries.append(issuer)
        current = issuer


def _fall_back_to(path: CertificationPath, partial_anchor: int | None) -> CertificationPath:
    """End an untrusted path at the first trust anchor met on the way up from the leaf, if any."""
    if path.trusted or partial_anchor is None:
        return path
    del path.entries[partial_anchor + 1:]
    path.end, path.anchor_index = TRUSTED_INTERMEDIATE, partial_anchor
    path.same_name_candidates = []
    path.same_name_anchors = []
    return path
