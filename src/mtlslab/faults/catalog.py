"""The fault scenarios: each builds a PKI with exactly one defect and runs a real handshake.

Every scenario names the ``mtlslab diagnose`` finding that explains it, the stage where
the handshake stops, and the certificate at fault. Scenarios come in families: trust,
validity, identity, purpose, CA constraints, keys and algorithms, revocation, protocol
and lifecycle. Where a defect can sit on either peer, the catalog has a scenario for
each side, because the alert and the stage differ.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.errors import InputError
from mtlslab.faults import builders, peers
from mtlslab.faults.result import DiagnoseInputs, FaultResult, stage_of
from mtlslab.handshake import HandshakeResult, run_handshake
from mtlslab.pki.authority import CertificateAuthority, Credential
from mtlslab.pki.contexts import client_context, configure_trust, load_credential, load_crls, server_context
from mtlslab.pki.crl import crl_pem, issue_crl

SERVER_NAME = "localhost"
EXPECTED_SERVER_ID = "spiffe://cluster.local/ns/shop/sa/payments"
PRESENTED_SERVER_ID = "spiffe://cluster.local/ns/shop/sa/orders"
# Signature schemes that openssl s_client offers in the no-common-signature-algorithm
# scenario: every usual scheme except ed25519 (RFC 8446 section 4.2.3 names).
SIGNATURE_ALGORITHMS_WITHOUT_ED25519 = "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256:rsa_pkcs1_sha256"

FAMILIES = (
    "trust",
    "validity",
    "identity",
    "purpose",
    "CA constraints",
    "keys and algorithms",
    "revocation",
    "protocol",
    "lifecycle",
)


@dataclass(frozen=True)
class Peers:
    """The CAs and credentials behind each peer's files in a two-peer mTLS scenario, for callers that write and repair them.

    ``server`` and ``client`` are the credentials in each peer's files, and ``client``
    is None for a client without a certificate. ``server_trust`` and ``client_trust``
    are the CAs or certificates each peer trusts. ``crls`` are loaded by the peer that
    verifies ``faulty_side``. ``issuer`` is the CA that issued the faulty peer's
    certificate. Where the faulty peer has no certificate, it is the CA that would
    issue one, and it is None where no CA did (a self-signed leaf). ``security_level``
    is the OpenSSL security level of the faulty peer when the scenario lowers it.
    Files loaded at the default level fail earlier than the scenario's handshake does.
    """

    faulty_side: str
    server: Credential
    client: Credential | None
    server_trust: object
    client_trust: object
    issuer: CertificateAuthority | None = None
    server_name: str = SERVER_NAME
    tls_version: str | None = None
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    hostname_checks_common_name: bool = True
    security_level: int | None = None


@dataclass(frozen=True)
class FaultSetup:
    """A built scenario: how to run its handshake, what to diagnose, and which certificate is at fault.

    ``handshake`` builds the SSL contexts and runs the connection. An ``ssl.SSLError``
    that escapes from it is a failure to load a certificate or key, so it is reported
    for ``faulty_side``. ``inputs`` is None for faults that no file shows (protocol faults).
    ``peers`` is None for scenarios that do not connect two certificate-based Python
    peers (the SPIFFE ID check, openssl s_client and plaintext peers).
    """

    handshake: Callable[[], HandshakeResult]
    faulty_side: str
    culprit: x509.Certificate | None
    inputs: DiagnoseInputs | None
    notes: tuple[str, ...] = ()
    peers: Peers | None = None


@dataclass(frozen=True)
class Scenario:
    """A named fault: its family, the diagnose finding that names it, and the stage where it stops."""

    name: str
    family: str
    finding: str
    stage: int
    summary: str
    build: Callable[[], FaultSetup] = field(repr=False)
    requires_openssl: bool = False

    def run(self, setup: FaultSetup | None = None) -> FaultResult:
        """Build the scenario (unless ``setup`` is given), run its handshake and return the result."""
        setup = setup or self.build()
        try:
            result = setup.handshake()
        except ssl.SSLError as error:
            result = HandshakeResult()
            peers.record_error(getattr(result, setup.faulty_side), "configuration", error)
        alert, receiver = _received_alert(result)
        return FaultResult(
            scenario=self.name,
            finding=self.finding,
            client=result.client,
            server=result.server,
            stage=stage_of(result.client, result.server),
            alert=alert,
            alert_receiver=receiver,
            notes=setup.notes,
        )


def _received_alert(result: HandshakeResult):
    for report in (result.client, result.server):
        if report.alert_received is not None:
            return report.alert_received, report.role
    return None, None


# Building blocks.


def _pki(root_name: str = "mtlslab Root CA", **root_options) -> tuple[CertificateAuthority, CertificateAuthority]:
    root = CertificateAuthority.create_root(root_name, **root_options)
    return root, root.create_intermediate("mtlslab Intermediate CA", key_type=root_options.get("key_type", "ecdsa-p256"))


def _pem(certificates: Iterable[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in certificates)


def _anchors(trust) -> list[x509.Certificate]:
    items = trust if isinstance(trust, (list, tuple)) else [trust]
    return [item.certificate if isinstance(item, Credential) else item for item in items]


def _context(
    side: str,
    credential: Credential | None,
    trust,
    *,
    tls_version: str | None = None,
    security_level: int | None = None,
    crls: Sequence[x509.CertificateRevocationList] | None = None,
    hostname_checks_common_name: bool = True,
) -> ssl.SSLContext:
    """Build a client or server context; ``crls`` (even empty) turns on CRL checks of the peer's leaf."""
    if security_level is None:
        if side == "server":
            context = server_context(credential, trust, tls_version=tls_version)
        else:
            context = client_context(trust, credential, tls_version=tls_version)
    else:
        # The security level must be lowered before the certificate is loaded, or
        # load_cert_chain rejects it; server_context and client_context load first.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if side == "server" else ssl.PROTOCOL_TLS_CLIENT)
        context.set_ciphers(f"DEFAULT:@SECLEVEL={security_level}")
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        load_credential(context, credential)
        configure_trust(context, trust)
        context.verify_mode = ssl.CERT_REQUIRED
    if crls is not None:
        load_crls(context, crls)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if side == "client":
        context.hostname_checks_common_name = hostname_checks_common_name
    return context


def _mtls(
    faulty_side: str,
    *,
    server: Credential,
    client: Credential | None,
    server_trust,
    client_trust,
    culprit: x509.Certificate | None,
    server_name: str = SERVER_NAME,
    diagnose_name: str | None = None,
    tls_version: str | None = None,
    security_level: int | None = None,
    crls: Sequence[x509.CertificateRevocationList] | None = None,
    hostname_checks_common_name: bool = True,
    inputs: DiagnoseInputs | None = None,
    notes: tuple[str, ...] = (),
    issuer: CertificateAuthority | None = None,
) -> FaultSetup:
    """Set up an mTLS connection between two Python peers, one of which has the defect.

    ``security_level`` lowers the OpenSSL security level of the faulty side only, so that
    it agrees to present a weak certificate that its peer, at the default level 2,
    rejects. ``crls`` are loaded by the peer that verifies the faulty side. ``issuer``
    is recorded in :class:`Peers` for callers that repair the setup.
    """

    def handshake() -> HandshakeResult:
        server_levels = security_level if faulty_side == "server" else None
        client_levels = security_level if faulty_side == "client" else None
        server_context_ = _context(
            "server",
            server,
            server_trust,
            tls_version=tls_version,
            security_level=server_levels,
            crls=crls if faulty_side == "client" else None,
        )
        client_context_ = _context(
            "client",
            client,
            client_trust,
            tls_version=tls_version,
            security_level=client_levels,
            crls=crls if faulty_side == "server" else None,
            hostname_checks_common_name=hostname_checks_common_name,
        )
        return run_handshake(server_context_, client_context_, server_hostname=server_name)

    if inputs is None:
        presented = server if faulty_side == "server" else client
        verifier_trust = client_trust if faulty_side == "server" else server_trust
        inputs = DiagnoseInputs(
            cert=presented.chain_pem,
            key=presented.private_key_pem(),
            ca=_pem(_anchors(verifier_trust)),
            crl=b"".join(crl_pem(crl) for crl in crls) if crls else None,
            role=faulty_side,
            name=diagnose_name or (server_name if faulty_side == "server" else None),
        )
    peer_files = Peers(
        faulty_side,
        server,
        client,
        server_trust,
        client_trust,
        issuer=issuer,
        server_name=server_name,
        tls_version=tls_version,
        crls=tuple(crls or ()),
        hostname_checks_common_name=hostname_checks_common_name,
        security_level=security_level,
    )
    return FaultSetup(handshake, faulty_side, culprit, inputs, notes, peer_files)


# Default culprit of _server_fault and _client_fault: the leaf that the faulty peer presents.
_LEAF = object()


def _server_fault(server: Credential, root, culprit=_LEAF, **options) -> FaultSetup:
    """Set up a faulty server certificate that a healthy client of ``root``'s PKI checks."""
    client = root.create_intermediate("mtlslab Client Issuer").issue_client("client")
    return _mtls(
        "server",
        server=server,
        client=client,
        server_trust=root,
        client_trust=options.pop("client_trust", root),
        culprit=culprit if culprit is not _LEAF else server.certificate,
        **options,
    )


def _client_fault(client: Credential, root, culprit=_LEAF, **options) -> FaultSetup:
    """Set up a faulty client certificate that a healthy mTLS server of ``root``'s PKI checks."""
    server = root.create_intermediate("mtlslab Server Issuer").issue_server(SERVER_NAME)
    return _mtls(
        "client",
        server=server,
        client=client,
        server_trust=options.pop("server_trust", root),
        client_trust=root,
        culprit=culprit if culprit is not _LEAF else client.certificate,
        **options,
    )


def _ago(**delta) -> dt.datetime:
    return builders.now() - dt.timedelta(**delta)


def _from_now(**delta) -> dt.datetime:
    return builders.now() + dt.timedelta(**delta)


# Trust.


def _unknown_ca(side: str) -> FaultSetup:
    root, _ = _pki()
    foreign_root = CertificateAuthority.create_root("Foreign Root CA")
    foreign_issuer = foreign_root.create_intermediate("Foreign Intermediate CA")
    if side == "server":
        return _server_fault(
            foreign_issuer.issue_server(SERVER_NAME), root, culprit=foreign_issuer.certificate, issuer=foreign_issuer
        )
    return _client_fault(foreign_issuer.issue_client("client"), root, culprit=foreign_issuer.certificate, issuer=foreign_issuer)


def _trust_anchor_rotated() -> FaultSetup:
    # Both roots carry the same name, as a rotated mesh root usually does; only the key differs.
    root_a = CertificateAuthority.create_root("mesh root")
    root_b = CertificateAuthority.create_root("mesh root")
    issuer_a = root_a.create_intermediate("mesh issuer")
    client = issuer_a.issue_client("client", spiffe_id="spiffe://cluster.local/ns/shop/sa/web")
    return _client_fault(client, root_a, culprit=issuer_a.certificate, server_trust=root_b, issuer=issuer_a)


def _self_signed_leaf() -> FaultSetup:
    root, _ = _pki()
    leaf = builders.build_certificate(
        SERVER_NAME, None, dns_names=[SERVER_NAME], ip_addresses=["127.0.0.1"], extended_key_usage=["serverAuth"]
    )
    return _server_fault(builders.as_leaf(leaf), root)


def _missing_intermediate(side: str) -> FaultSetup:
    root, issuer = _pki()
    if side == "server":
        return _server_fault(builders.without_chain(issuer.issue_server(SERVER_NAME)), root, issuer=issuer)
    return _client_fault(builders.without_chain(issuer.issue_client("client")), root, issuer=issuer)


def _intermediate_anchor() -> FaultSetup:
    root, issuer = _pki()
    return _server_fault(
        issuer.issue_server(SERVER_NAME), root, culprit=issuer.certificate, client_trust=issuer, issuer=issuer
    )


# Validity.


def _expired_leaf(side: str) -> FaultSetup:
    root, issuer = _pki()
    window = {"valid_from": _ago(hours=2), "lifetime": dt.timedelta(hours=1)}
    if side == "server":
        return _server_fault(issuer.issue_server(SERVER_NAME, **window), root, issuer=issuer)
    return _client_fault(issuer.issue_client("client", **window), root, issuer=issuer)


def _expired_intermediate() -> FaultSetup:
    root = CertificateAuthority.create_root()
    issuer = builders.build_ca("Expired Intermediate CA", root, path_length=0, valid_from=_ago(days=2), lifetime=dt.timedelta(days=1))
    server = issuer.issue_server(SERVER_NAME)
    return _server_fault(server, root, culprit=issuer.certificate, issuer=issuer)


def _not_yet_valid(side: str) -> FaultSetup:
    root, issuer = _pki()
    start = {"valid_from": _from_now(seconds=60)}
    if side == "server":
        return _server_fault(issuer.issue_server(SERVER_NAME, **start), root, issuer=issuer)
    return _client_fault(issuer.issue_client("client", **start), root, issuer=issuer)


# Identity.


def _name_mismatch() -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue_server("svc-a.ns.svc")
    return _server_fault(server, root, server_name="svc-b.ns.svc", issuer=issuer)


def _common_name_only() -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue("svc-a.ns.svc", extended_key_usage=("serverAuth",))
    return _server_fault(
        server,
        root,
        server_name="svc-a.ns.svc",
        hostname_checks_common_name=False,
        issuer=issuer,
        notes=(
            "Python falls back to the common name by default (SSLContext.hostname_checks_common_name); "
            "the client here turns that off, as Go 1.15 and later and browsers do.",
        ),
    )


def _spiffe_id_mismatch() -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue_server(SERVER_NAME, uris=(PRESENTED_SERVER_ID,))
    client = root.create_intermediate("mtlslab Client Issuer").issue_client("client")

    def handshake() -> HandshakeResult:
        return peers.run_with_identity_check(
            _context("server", server, root), _context("client", client, root), EXPECTED_SERVER_ID
        )

    inputs = DiagnoseInputs(
        cert=server.chain_pem, key=server.private_key_pem(), ca=root.cert_pem, role="server", name=EXPECTED_SERVER_ID
    )
    notes = ("Python's ssl does not match URI SANs: the kit checks the SPIFFE ID after the handshake, as Envoy does in its verification callback.",)
    return FaultSetup(handshake, "server", server.certificate, inputs, notes)


# Purpose.


def _server_eku_on_client() -> FaultSetup:
    root, issuer = _pki()
    return _client_fault(issuer.issue_client("client", extended_key_usage=("serverAuth",)), root, issuer=issuer)


def _client_eku_on_server() -> FaultSetup:
    root, issuer = _pki()
    return _server_fault(issuer.issue_server(SERVER_NAME, extended_key_usage=("clientAuth",)), root, issuer=issuer)


def _key_usage_without_digital_signature() -> FaultSetup:
    root, issuer = _pki()
    client = issuer.issue_client("client", key_type="rsa2048", key_usage=("key_encipherment",))
    return _client_fault(client, root, issuer=issuer)


# CA constraints.


def _issuer_not_ca(variant: str) -> FaultSetup:
    root = CertificateAuthority.create_root()
    if variant == "ca-false":
        issuer = builders.build_certificate("mesh issuer", root, ca=False, key_usage=builders.CA_KEY_USAGE, lifetime=dt.timedelta(days=365))
    else:
        issuer = builders.build_ca("mesh issuer", root, path_length=0, key_usage=("digital_signature", "crl_sign"))
    client = issuer.issue_client("client", spiffe_id="spiffe://cluster.local/ns/shop/sa/web")
    return _client_fault(client, root, culprit=issuer.certificate, issuer=issuer)


def _path_length_exceeded() -> FaultSetup:
    root = CertificateAuthority.create_root()
    limited = builders.build_ca("Limited Intermediate CA", root, path_length=0)
    below = builders.build_ca("Second Intermediate CA", limited, path_length=0)
    return _server_fault(below.issue_server(SERVER_NAME), root, culprit=limited.certificate, issuer=below)


def _name_constraints_violated() -> FaultSetup:
    root = CertificateAuthority.create_root()
    issuer = builders.build_ca("Constrained Intermediate CA", root, path_length=0, permitted_dns_names=["example.internal"])
    server = issuer.issue_server("svc.other.internal", ip_addresses=())
    return _server_fault(server, root, server_name="svc.other.internal", issuer=issuer)


def _unknown_critical_extension() -> FaultSetup:
    root, issuer = _pki()
    leaf = builders.build_certificate(
        SERVER_NAME, issuer, dns_names=[SERVER_NAME], extended_key_usage=["serverAuth"], unknown_critical_extension=True
    )
    return _server_fault(builders.as_leaf(leaf), root, issuer=issuer)


def _aki_ski_mismatch() -> FaultSetup:
    root, issuer = _pki()
    leaf = builders.build_certificate(
        SERVER_NAME,
        issuer,
        dns_names=[SERVER_NAME],
        extended_key_usage=["serverAuth"],
        authority_key_identifier=builders.random_key_identifier(),
    )
    return _server_fault(builders.as_leaf(leaf), root, issuer=issuer)


# Keys and algorithms.


def _key_mismatch(side: str) -> FaultSetup:
    root, issuer = _pki()
    issued = issuer.issue_server(SERVER_NAME) if side == "server" else issuer.issue_client("client")
    other_key = issuer.issue_client("other").private_key
    credential = Credential(issued.certificate, other_key, issued.chain)
    fault = _server_fault if side == "server" else _client_fault
    setup = fault(credential, root, issuer=issuer)
    return setup


def _rsa_1024(where: str) -> FaultSetup:
    """Set up a 1024-bit RSA key on the server's leaf (``leaf``, or ``peer`` at security level 0) or its intermediate (``ca``)."""
    root = CertificateAuthority.create_root(key_type="rsa2048")
    if where == "ca":
        weak_issuer = builders.build_ca("Weak Intermediate CA", root, path_length=0, key_type="rsa1024")
        server = weak_issuer.issue_server(SERVER_NAME, key_type="rsa2048")
        return _server_fault(server, root, culprit=weak_issuer.certificate, issuer=weak_issuer)
    issuer = root.create_intermediate(key_type="rsa2048")
    server = issuer.issue_server(SERVER_NAME, key_type="rsa1024")
    if where == "peer":
        return _server_fault(server, root, security_level=0, issuer=issuer)
    return _server_fault(server, root, issuer=issuer)


def _sha1_signature(where: str) -> FaultSetup:
    root = CertificateAuthority.create_root(key_type="rsa2048")
    issuer = root.create_intermediate(key_type="rsa2048")
    issued = issuer.issue_server(SERVER_NAME, key_type="rsa2048")
    server = Credential(builders.resign_with_sha1(issued.certificate, issuer.private_key), issued.private_key, issued.chain)
    if where == "peer":
        return _server_fault(server, root, security_level=0, issuer=issuer)
    return _server_fault(server, root, issuer=issuer)


def _no_common_signature_algorithm() -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue_server(SERVER_NAME, key_type="ed25519")
    client = root.create_intermediate("mtlslab Client Issuer").issue_client("client")

    def handshake() -> HandshakeResult:
        return peers.run_openssl_client(
            _context("server", server, root),
            root.certificate,
            client,
            signature_algorithms=SIGNATURE_ALGORITHMS_WITHOUT_ED25519,
        )

    inputs = DiagnoseInputs(cert=server.chain_pem, key=server.private_key_pem(), ca=root.cert_pem, role="server", name=SERVER_NAME)
    notes = ("The client is openssl s_client -sigalgs, because Python's ssl cannot restrict signature_algorithms.",)
    return FaultSetup(handshake, "server", server.certificate, inputs, notes)


# Revocation.


def _revocation(variant: str) -> FaultSetup:
    root, issuer = _pki()
    client = issuer.issue_client("client")
    if variant == "revoked":
        crls = [issue_crl(issuer, [client.certificate], reason=x509.ReasonFlags.key_compromise)]
    elif variant == "expired":
        crls = [issue_crl(issuer, [], last_update=_ago(days=8), lifetime=dt.timedelta(days=7))]
    else:
        # CRL checking is on, but the only CRL comes from the root, not from the client's issuer.
        crls = [issue_crl(root, [])]
    # An expired CRL is at fault itself: no certificate is.
    culprit = None if variant == "expired" else client.certificate
    return _client_fault(client, root, culprit=culprit, crls=crls, issuer=issuer)


# Protocol.


def _client_certificate_missing(tls_version: str) -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue_server(SERVER_NAME)
    inputs = DiagnoseInputs(ca=root.cert_pem, role="client")
    return _mtls(
        "client",
        server=server,
        client=None,
        server_trust=root,
        client_trust=root,
        culprit=None,
        tls_version=tls_version,
        inputs=inputs,
        issuer=issuer,
    )


def _plaintext_client(payload: bytes) -> FaultSetup:
    root, issuer = _pki()
    server = issuer.issue_server(SERVER_NAME)
    return FaultSetup(
        lambda: peers.run_plaintext_client(_context("server", server, root), payload=payload), "client", None, None
    )


def _plaintext_server() -> FaultSetup:
    root, issuer = _pki()
    client = issuer.issue_client("client")
    return FaultSetup(lambda: peers.run_tls_client_against_plaintext(_context("client", client, root)), "server", None, None)


# Lifecycle.


def _stale_served_certificate() -> FaultSetup:
    root, issuer = _pki()
    # The process loaded `served` at start-up; it has expired since. The files were
    # renewed on disk with `renewed`, which the process never reloaded.
    served = issuer.issue_server(SERVER_NAME, valid_from=_ago(hours=2), lifetime=dt.timedelta(hours=1))
    renewed = issuer.issue_server(SERVER_NAME)
    setup = _server_fault(served, root, issuer=issuer)
    inputs = DiagnoseInputs(
        cert=renewed.chain_pem,
        key=renewed.private_key_pem(),
        ca=root.cert_pem,
        served=served.chain_pem,
        role="server",
        name=SERVER_NAME,
    )
    # The files on disk hold the renewed certificate; only the running process serves `served`.
    on_disk = replace(setup.peers, server=renewed)
    return FaultSetup(setup.handshake, "server", served.certificate, inputs, peers=on_disk)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        # Trust.
        Scenario("unknown-ca-client", "trust", "unknown-ca", 5,
                  "The client's chain leads to a root that the server does not trust.",
                  lambda: _unknown_ca("client")),
        Scenario("unknown-ca-server", "trust", "unknown-ca", 3,
                  "The server's chain leads to a root that the client does not trust.",
                  lambda: _unknown_ca("server")),
        Scenario("trust-anchor-rotated", "trust", "unknown-ca", 5,
                  "The server trusts only the new root; the client still holds a certificate from the old one.",
                  _trust_anchor_rotated),
        Scenario("self-signed-leaf", "trust", "self-signed-leaf", 3,
                  "The server presents a self-signed certificate that the client does not trust.",
                  _self_signed_leaf),
        Scenario("missing-intermediate-server", "trust", "missing-intermediate", 3,
                  "The server sends its leaf without the intermediate; the client trusts the root only.",
                  lambda: _missing_intermediate("server")),
        Scenario("missing-intermediate-client", "trust", "missing-intermediate", 5,
                  "The client sends its leaf without the intermediate; the server trusts the root only.",
                  lambda: _missing_intermediate("client")),
        Scenario("intermediate-only-trust", "trust", "intermediate-anchor", 3,
                  "The client's trust store holds the intermediate but not the root above it.",
                  _intermediate_anchor),
        # Validity.
        Scenario("expired-server-leaf", "validity", "expired", 3,
                  "The server's certificate expired an hour ago.", lambda: _expired_leaf("server")),
        Scenario("expired-client-leaf", "validity", "expired", 5,
                  "The client's certificate expired an hour ago.", lambda: _expired_leaf("client")),
        Scenario("expired-intermediate", "validity", "expired", 3,
                  "The intermediate CA above a valid server certificate has expired.", _expired_intermediate),
        Scenario("not-yet-valid-client", "validity", "not-yet-valid", 5,
                  "The client's certificate starts 60 seconds in the future (clock skew).",
                  lambda: _not_yet_valid("client")),
        Scenario("not-yet-valid-server", "validity", "not-yet-valid", 3,
                  "The server's certificate starts 60 seconds in the future (clock skew).",
                  lambda: _not_yet_valid("server")),
        # Identity.
        Scenario("name-mismatch", "identity", "name-mismatch", 3,
                  "The certificate names svc-a.ns.svc; the client connects to svc-b.ns.svc.", _name_mismatch),
        Scenario("common-name-only", "identity", "cn-only", 3,
                  "The certificate has a common name and no subjectAltName.", _common_name_only),
        Scenario("spiffe-id-mismatch", "identity", "spiffe-id-mismatch", 3,
                  "The server presents another workload's SPIFFE ID than the one the client expects.",
                  _spiffe_id_mismatch),
        # Purpose.
        Scenario("server-auth-only-client", "purpose", "wrong-eku", 5,
                  "The client presents a certificate whose extendedKeyUsage is serverAuth only.",
                  _server_eku_on_client),
        Scenario("client-auth-only-server", "purpose", "wrong-eku", 3,
                  "The server presents a certificate whose extendedKeyUsage is clientAuth only.",
                  _client_eku_on_server),
        Scenario("key-usage-without-digital-signature", "purpose", "key-usage", 5,
                  "The client's certificate allows keyEncipherment only, so it cannot sign the handshake.",
                  _key_usage_without_digital_signature),
        # CA constraints.
        Scenario("issuer-not-ca", "CA constraints", "issuer-not-ca", 5,
                  "The client's issuer has basicConstraints CA:FALSE.", lambda: _issuer_not_ca("ca-false")),
        Scenario("issuer-without-key-cert-sign", "CA constraints", "issuer-not-ca", 5,
                  "The client's issuer is CA:TRUE but its keyUsage lacks keyCertSign.",
                  lambda: _issuer_not_ca("no-key-cert-sign")),
        Scenario("path-length-exceeded", "CA constraints", "pathlen-exceeded", 3,
                  "An intermediate with pathLenConstraint 0 has another CA below it.", _path_length_exceeded),
        Scenario("name-constraints-violated", "CA constraints", "name-constraints", 3,
                  "An intermediate permitted to sign example.internal names signs svc.other.internal.",
                  _name_constraints_violated),
        Scenario("unknown-critical-extension", "CA constraints", "unknown-critical-extension", 3,
                  "The server's certificate carries a critical extension no verifier knows.",
                  _unknown_critical_extension),
        Scenario("aki-ski-mismatch", "CA constraints", "aki-ski-mismatch", 3,
                  "The server certificate's authority key identifier does not name its issuer's key.",
                  _aki_ski_mismatch),
        # Keys and algorithms.
        Scenario("key-mismatch-server", "keys and algorithms", "key-mismatch", 0,
                  "The server's private key belongs to another certificate.", lambda: _key_mismatch("server")),
        Scenario("key-mismatch-client", "keys and algorithms", "key-mismatch", 0,
                  "The client's private key belongs to another certificate.", lambda: _key_mismatch("client")),
        Scenario("rsa-1024-leaf", "keys and algorithms", "weak-key", 0,
                  "The server loads a 1024-bit RSA certificate at OpenSSL's default security level.",
                  lambda: _rsa_1024("leaf")),
        Scenario("rsa-1024-peer", "keys and algorithms", "weak-key", 3,
                  "A server at security level 0 presents a 1024-bit RSA certificate to a default client.",
                  lambda: _rsa_1024("peer")),
        Scenario("rsa-1024-intermediate", "keys and algorithms", "weak-key", 0,
                  "The server's chain holds an intermediate with a 1024-bit RSA key.", lambda: _rsa_1024("ca")),
        Scenario("sha1-signature", "keys and algorithms", "weak-signature", 0,
                  "The server loads a certificate signed with SHA-1 at OpenSSL's default security level.",
                  lambda: _sha1_signature("leaf")),
        Scenario("sha1-signature-peer", "keys and algorithms", "weak-signature", 3,
                  "A server at security level 0 presents a SHA-1-signed certificate to a default client.",
                  lambda: _sha1_signature("peer")),
        Scenario("no-common-signature-algorithm", "keys and algorithms", "no-common-signature-algorithm", 2,
                  "The server has an Ed25519 certificate; the client does not offer ed25519.",
                  _no_common_signature_algorithm, requires_openssl=True),
        # Revocation.
        Scenario("revoked-client", "revocation", "revoked", 5,
                  "The client's certificate is listed in its issuer's CRL.", lambda: _revocation("revoked")),
        Scenario("crl-missing", "revocation", "crl-missing", 5,
                  "The server checks CRLs but has none from the client's issuer.", lambda: _revocation("missing")),
        Scenario("crl-expired", "revocation", "crl-expired", 5,
                  "The server checks CRLs and the issuer's CRL is past its nextUpdate.",
                  lambda: _revocation("expired")),
        # Protocol.
        Scenario("client-certificate-missing-tls13", "protocol", "client-cert-missing", 5,
                  "The client has no certificate; in TLS 1.3 it learns so on its first read.",
                  lambda: _client_certificate_missing("1.3")),
        Scenario("client-certificate-missing-tls12", "protocol", "client-cert-missing", 5,
                  "The client has no certificate; in TLS 1.2 the handshake fails.",
                  lambda: _client_certificate_missing("1.2")),
        Scenario("plaintext-client", "protocol", "protocol-mismatch", 1,
                  "A client sends a plain HTTP request to an mTLS port.",
                  lambda: _plaintext_client(peers.HTTP_REQUEST)),
        Scenario("plaintext-client-other-protocol", "protocol", "protocol-mismatch", 1,
                  "A client speaks another plaintext protocol (not HTTP) to an mTLS port.",
                  lambda: _plaintext_client(peers.OTHER_PLAINTEXT)),
        Scenario("plaintext-server", "protocol", "protocol-mismatch", 2,
                  "A TLS client connects to a port that answers in plaintext.", _plaintext_server),
        # Lifecycle.
        Scenario("stale-served-certificate", "lifecycle", "stale-served-certificate", 3,
                  "The certificate was renewed on disk, but the process still serves the old, expired one.",
                  _stale_served_certificate),
    )
}


def scenario(name: str) -> Scenario:
    """Return the scenario called ``name``, or raise InputError listing the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(f"unknown fault scenario {name!r}: use one of {', '.join(SCENARIOS)}") from None


def run_scenario(name: str) -> FaultResult:
    """Build and run the scenario called ``name``."""
    return scenario(name).run()
