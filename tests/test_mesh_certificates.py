"""Workload certificates in each mesh's format carry the identity that mesh expects."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mtlslab.errors import InputError
from mtlslab.handshake import run_handshake
from mtlslab.mesh.certificates import (
    cilium_spiffe_id,
    create_istio_ca,
    create_linkerd_issuer,
    create_linkerd_trust_anchor,
    create_spire_ca,
    issue_cilium_workload,
    issue_istio_workload,
    issue_linkerd_workload,
    linkerd_identity,
    peer_identity,
)
from mtlslab.pki import client_context, server_context, summarize, verify_client_chain


@pytest.fixture(scope="module")
def linkerd_issuer():
    return create_linkerd_issuer(create_linkerd_trust_anchor())


@pytest.fixture(scope="module")
def istio_ca():
    return create_istio_ca(plug_in=True)


@pytest.fixture(scope="module")
def spire_ca():
    return create_spire_ca(key_type="ecdsa-p256")


def san(credential, kind):
    return credential.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(kind)


def lifetime(credential):
    return credential.certificate.not_valid_after_utc - credential.certificate.not_valid_before_utc


def test_linkerd_identity_name():
    assert linkerd_identity("emojivoto", "web") == "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"


def test_linkerd_certificate_has_dns_identity(linkerd_issuer):
    credential = issue_linkerd_workload(linkerd_issuer, "emojivoto", "web")
    assert san(credential, x509.DNSName) == ["web.emojivoto.serviceaccount.identity.linkerd.cluster.local"]
    assert san(credential, x509.UniformResourceIdentifier) == []
    assert peer_identity(credential.certificate) == "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"


def test_linkerd_certificate_shape(linkerd_issuer):
    credential = issue_linkerd_workload(linkerd_issuer, "emojivoto", "web")
    summary = summarize(credential.certificate)
    assert summary.public_key == "ECDSA P-256"
    assert summary.extended_key_usage == ("serverAuth", "clientAuth")
    assert lifetime(credential) == dt.timedelta(hours=24, seconds=40)


def test_linkerd_certificate_never_outlives_issuer():
    short_issuer = create_linkerd_issuer(create_linkerd_trust_anchor(), lifetime=dt.timedelta(hours=2))
    credential = issue_linkerd_workload(short_issuer, "emojivoto", "web")
    assert credential.certificate.not_valid_after_utc == short_issuer.certificate.not_valid_after_utc


def test_istio_certificate_has_spiffe_identity(istio_ca):
    credential = issue_istio_workload(istio_ca, "bookinfo", "productpage")
    assert san(credential, x509.UniformResourceIdentifier) == ["spiffe://cluster.local/ns/bookinfo/sa/productpage"]
    assert credential.certificate.subject == x509.Name([])


def test_istio_certificate_shape(istio_ca):
    credential = issue_istio_workload(istio_ca, "bookinfo", "productpage")
    assert isinstance(credential.private_key, rsa.RSAPrivateKey)
    assert credential.private_key.key_size == 2048
    assert lifetime(credential) == dt.timedelta(hours=24)
    assert credential.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical


def test_istio_certificate_chains_to_plug_in_root(istio_ca):
    credential = issue_istio_workload(istio_ca, "bookinfo", "productpage", key_type="ecdsa-p256")
    verify_client_chain(credential.certificate, credential.chain, [istio_ca.root.certificate])


def test_istio_custom_trust_domain(istio_ca):
    credential = issue_istio_workload(istio_ca, "shop", "cart", trust_domain="prod.example.com", key_type="ecdsa-p256")
    assert peer_identity(credential.certificate) == "spiffe://prod.example.com/ns/shop/sa/cart"


def test_cilium_certificate_has_identity_number(spire_ca):
    credential = issue_cilium_workload(spire_ca, 17947)
    assert san(credential, x509.UniformResourceIdentifier) == ["spiffe://spiffe.cilium/identity/17947"]
    assert isinstance(credential.private_key, ec.EllipticCurvePrivateKey)
    assert lifetime(credential) == dt.timedelta(hours=1)


def test_cilium_ca_defaults_to_rsa_4096():
    ca = create_spire_ca()
    assert ca.certificate.public_key().key_size == 4096
    assert lifetime(ca) == dt.timedelta(hours=24)


def test_mesh_certificates_complete_mtls(istio_ca):
    server = issue_istio_workload(istio_ca, "demo", "api", key_type="ecdsa-p256")
    client = issue_istio_workload(istio_ca, "demo", "frontend", key_type="ecdsa-p256")
    result = run_handshake(
        server_context(server, istio_ca.root),
        client_context(istio_ca.root, client, check_hostname=False),
        server_hostname=None,
    )
    assert result.ok, str(result)
    assert peer_identity(result.server.peer_certificate) == "spiffe://cluster.local/ns/demo/sa/frontend"


def test_other_mesh_certificate_is_rejected(istio_ca, linkerd_issuer):
    server = issue_istio_workload(istio_ca, "demo", "api", key_type="ecdsa-p256")
    stranger = issue_linkerd_workload(linkerd_issuer, "demo", "frontend")
    result = run_handshake(
        server_context(server, istio_ca.root),
        client_context(istio_ca.root, stranger, check_hostname=False),
        server_hostname=None,
    )
    assert not result.server.ok
    assert result.client.alert_received.name == "unknown_ca"


@pytest.mark.parametrize("name", ["Web", "web_1", "", "a" * 64])
def test_invalid_service_account_is_rejected(linkerd_issuer, name):
    with pytest.raises(InputError, match="invalid service account"):
        issue_linkerd_workload(linkerd_issuer, "demo", name)


@pytest.mark.parametrize("identity", [0, -5, "17947", True])
def test_invalid_cilium_identity_is_rejected(identity):
    with pytest.raises(InputError, match="invalid Cilium identity"):
        cilium_spiffe_id(identity)


def test_peer_identity_without_certificate():
    assert peer_identity(None) is None
