"""Certificate authorities that issue certificates, in the spirit of a small test PKI.

A root CA creates intermediate CAs; any CA issues leaf certificates for servers and
clients. Every lifetime counts from the moment of issue, so nothing built here goes
stale in a committed notebook.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mtlslab.errors import InputError
from mtlslab.pki.keys import DEFAULT_KEY_TYPE, default_signature_hash, generate_private_key
from mtlslab.pki.spiffe import validate_spiffe_id

# Certificates start one minute in the past so that a peer whose clock runs a little
# behind does not reject a certificate issued a moment ago as "not yet valid".
CLOCK_SKEW_ALLOWANCE = dt.timedelta(minutes=1)

EXTENDED_KEY_USAGES = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
}

KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)

CA_KEY_USAGE = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})


@dataclass(frozen=True)
class Credential:
    """A certificate, its private key, and the intermediates that link it to its root.

    ``chain`` starts with the certificate's issuer and stops before the root: it is
    what a TLS peer sends after its own certificate. The root travels separately, as
    the trust anchor the other peer already has.
    """

    certificate: x509.Certificate
    private_key: CertificateIssuerPrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def cert_pem(self) -> bytes:
        """The certificate alone, PEM-encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def chain_pem(self) -> bytes:
        """The certificate followed by its intermediates, PEM-encoded, as a TLS peer sends them."""
        parts = [self.certificate, *self.chain]
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in parts)

    def private_key_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """Return the private key as PKCS #8 PEM, encrypted when ``passphrase`` is given."""
        if passphrase is None:
            encryption = serialization.NoEncryption()
        else:
            if isinstance(passphrase, str):
                passphrase = passphrase.encode()
            encryption = serialization.BestAvailableEncryption(passphrase)
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


@dataclass(frozen=True)
class CertificateAuthority(Credential):
    """A CA: a credential whose certificate may sign other certificates.

    Create a root with :meth:`create_root`, then intermediates with
    :meth:`create_intermediate`, then leaves with :meth:`issue_server`,
    :meth:`issue_client` or the general :meth:`issue`.
    """

    parent: CertificateAuthority | None = field(default=None, repr=False)

    @classmethod
    def create_root(
        cls,
        common_name: str = "mtlslab Root CA",
        *,
        key_type: str = DEFAULT_KEY_TYPE,
        lifetime: dt.timedelta = dt.timedelta(days=3650),
        path_length: int | None = None,
        organization: str = "mtlslab",
        private_key: CertificateIssuerPrivateKeyTypes | None = None,
    ) -> CertificateAuthority:
        """Create a self-signed root CA.

        ``path_length`` limits how many intermediate CAs may stand below the root
        (basicConstraints pathLenConstraint, RFC 5280 section 4.2.1.9); None sets no limit.
        ``private_key`` reuses an existing key instead of generating one of ``key_type``.
        """
        key = private_key if private_key is not None else generate_private_key(key_type)
        name = subject_name(common_name, organization)
        builder = _ca_builder(name, name, key.public_key(), lifetime, path_length)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        certificate = builder.sign(key, default_signature_hash(key))
        return cls(certificate=certificate, private_key=key)

    @property
    def root(self) -> CertificateAuthority:
        """The self-signed CA at the top of this CA's chain."""
        return self if self.parent is None else self.parent.root

    def create_intermediate(
        self,
        common_name: str = "mtlslab Intermediate CA",
        *,
        key_type: str = DEFAULT_KEY_TYPE,
        lifetime: dt.timedelta = dt.timedelta(days=365),
        path_length: int | None = 0,
        organization: str = "mtlslab",
        private_key: CertificateIssuerPrivateKeyTypes | None = None,
    ) -> CertificateAuthority:
        """Create a CA signed by this one; ``path_length=0`` lets it issue leaves only.

        ``private_key`` reuses an existing key instead of generating one of ``key_type``.
        """
        key = private_key if private_key is not None else generate_private_key(key_type)
        builder = _ca_builder(
            subject_name(common_name, organization),
            self.certificate.subject,
            key.public_key(),
            lifetime,
            path_length,
        )
        builder = builder.add_extension(self._authority_key_identifier(), critical=False)
        certificate = builder.sign(self.private_key, default_signature_hash(self.private_key))
        return CertificateAuthority(
            certificate=certificate,
            private_key=key,
            chain=self._issued_chain(),
            parent=self,
        )

    def issue(
        self,
        common_name: str | None = None,
        *,
        dns_names: Iterable[str] = (),
        ip_addresses: Iterable[str] = (),
        uris: Iterable[str] = (),
        spiffe_id: str | None = None,
        extended_key_usage: Iterable[str] | None = ("serverAuth", "clientAuth"),
        key_usage: Iterable[str] | None = None,
        key_type: str = DEFAULT_KEY_TYPE,
        lifetime: dt.timedelta = dt.timedelta(days=90),
        valid_from: dt.datetime | None = None,
        hash_algorithm: hashes.HashAlgorithm | None = None,
        private_key: CertificateIssuerPrivateKeyTypes | None = None,
    ) -> Credential:
        """Issue a leaf certificate, with a new key unless ``private_key`` is given.

        Identities go in the subjectAltName extension, because TLS clients match names
        against it. RFC 6125 section 6.4.4 lets a client fall back to the commonName only
        when the certificate presents no subjectAltName identifier of a type the client
        supports (DNS-ID, SRV-ID, URI-ID or an application-specific type). OpenSSL (so
        Python's ssl) applies a looser rule and falls back whenever no DNS SAN is present,
        even beside a URI SAN. Go since 1.15 and pyca/cryptography's verifier never fall
        back. ``spiffe_id`` adds
        a ``spiffe://`` URI, the identity form that Istio, Linkerd and Cilium with SPIRE
        put in workload certificates.

        ``extended_key_usage`` takes ``serverAuth`` and ``clientAuth``; None leaves the
        extension out. ``key_usage`` takes names from :data:`KEY_USAGES`; by default a
        leaf gets digitalSignature, plus keyEncipherment for RSA keys. ``valid_from``
        defaults to one minute before now; pass an earlier time with a short lifetime to
        build an expired certificate, or a later one for a certificate not yet valid.
        ``hash_algorithm`` overrides the signature hash, for example SHA-1 to show why
        verifiers reject it. ``private_key`` reuses an existing key instead of generating
        one of ``key_type``, for example to keep a key across a renewal.
        """
        key = private_key if private_key is not None else generate_private_key(key_type)
        names = general_names(dns_names, ip_addresses, uris, spiffe_id)
        if common_name is None and not names:
            raise InputError("a certificate needs a common name or at least one DNS name, IP address or URI")

        start = valid_from or _now() - CLOCK_SKEW_ALLOWANCE
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject_name(common_name) if common_name else x509.Name([]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage_extension(_leaf_key_usage(key, key_usage)), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(self._authority_key_identifier(), critical=False)
        )

        if names:
            # RFC 5280 section 4.2.1.6: with an empty subject the SAN must be critical.
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=common_name is None)
        if extended_key_usage is not None:
            builder = builder.add_extension(_extended_key_usage(extended_key_usage), critical=False)

        signature_hash = hash_algorithm or default_signature_hash(self.private_key)
        certificate = builder.sign(self.private_key, signature_hash)
        return Credential(certificate=certificate, private_key=key, chain=self._issued_chain())

    def issue_server(
        self,
        *dns_names: str,
        ip_addresses: Iterable[str] = ("127.0.0.1",),
        **options,
    ) -> Credential:
        """Issue a certificate for a TLS server, with extendedKeyUsage serverAuth.

        Without DNS names it is issued for ``localhost``, the name the kit's loopback
        handshakes use.
        """
        options.setdefault("extended_key_usage", ("serverAuth",))
        return self.issue(dns_names=dns_names or ("localhost",), ip_addresses=ip_addresses, **options)

    def issue_client(
        self,
        common_name: str | None = "client",
        *,
        spiffe_id: str | None = None,
        **options,
    ) -> Credential:
        """Issue a certificate for a TLS client, with extendedKeyUsage clientAuth."""
        options.setdefault("extended_key_usage", ("clientAuth",))
        return self.issue(common_name, spiffe_id=spiffe_id, **options)

    def _issued_chain(self) -> tuple[x509.Certificate, ...]:
        """Return what a certificate issued by this CA sends after itself: this CA up to, not including, the root."""
        if self.parent is None:
            return ()
        return (self.certificate, *self.chain)

    def _authority_key_identifier(self) -> x509.AuthorityKeyIdentifier:
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def subject_name(common_name: str, organization: str | None = None) -> x509.Name:
    """Build a subject or issuer name: the organization, when given, then the common name."""
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ca_builder(subject, issuer, public_key, lifetime, path_length) -> x509.CertificateBuilder:
    start = _now() - CLOCK_SKEW_ALLOWANCE
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage_extension(CA_KEY_USAGE), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def general_names(dns_names, ip_addresses, uris, spiffe_id: str | None = None) -> list[x509.GeneralName]:
    """Build subjectAltName entries from DNS names, IP address literals, URIs and a SPIFFE ID."""
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    for address in ip_addresses:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            raise InputError(f"invalid IP address {address!r}: use a literal such as 127.0.0.1 or ::1") from None
    names.extend(x509.UniformResourceIdentifier(uri) for uri in uris)
    if spiffe_id is not None:
        names.append(x509.UniformResourceIdentifier(validate_spiffe_id(spiffe_id)))
    return names


def _leaf_key_usage(key, requested: Iterable[str] | None) -> frozenset[str]:
    if requested is not None:
        return frozenset(requested)
    # keyEncipherment matters only for TLS 1.2 RSA key transport; it is harmless otherwise.
    if isinstance(key, rsa.RSAPrivateKey):
        return frozenset({"digital_signature", "key_encipherment"})
    return frozenset({"digital_signature"})


def key_usage_extension(usages: Iterable[str]) -> x509.KeyUsage:
    """Build a KeyUsage extension with the named bits from :data:`KEY_USAGES` set."""
    usages = set(usages)
    unknown = usages - set(KEY_USAGES)
    if unknown:
        raise InputError(f"unknown key usage {sorted(unknown)[0]!r}: use names from {', '.join(KEY_USAGES)}")
    flags = {name: name in usages for name in KEY_USAGES}
    return x509.KeyUsage(**flags)


def _extended_key_usage(usages: Iterable[str]) -> x509.ExtendedKeyUsage:
    oids = []
    for usage in usages:
        if usage not in EXTENDED_KEY_USAGES:
            raise InputError(f"unknown extended key usage {usage!r}: use serverAuth, clientAuth or both")
        oids.append(EXTENDED_KEY_USAGES[usage])
    return x509.ExtendedKeyUsage(oids)
