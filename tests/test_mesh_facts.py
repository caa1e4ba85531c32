"""Every mesh fact has a source with a URL and a product version, and the key facts match the documentation."""

from __future__ import annotations

import pytest

from mtlslab.errors import InputError
from mtlslab.mesh.facts import MESHES, TOPICS, compare, mesh_facts
from mtlslab.mesh.proof import EVIDENCE_KINDS, proofs_for

ALL_FACTS = [(mesh.key, fact) for mesh in MESHES.values() for fact in mesh.facts]


def test_meshes_cover_the_four_data_planes():
    assert set(MESHES) == {"linkerd", "istio-sidecar", "istio-ambient", "cilium"}


@pytest.mark.parametrize("key", sorted(MESHES))
def test_each_mesh_covers_every_topic(key):
    topics = [fact.topic for fact in MESHES[key].facts]
    assert sorted(topics) == sorted(TOPICS)


@pytest.mark.parametrize(("key", "fact"), ALL_FACTS, ids=[f"{key}-{fact.topic}" for key, fact in ALL_FACTS])
def test_every_fact_has_a_source(key, fact):
    assert fact.sources, f"{key} {fact.topic} has no source"
    for source in fact.sources:
        assert source.url.startswith("https://"), source
        assert source.version, source
        assert source.title, source


def test_linkerd_identity_format():
    statement = mesh_facts("linkerd").fact("identity_format").statement
    assert "SERVICE_ACCOUNT.NAMESPACE.serviceaccount.identity.linkerd.cluster.local" in statement


def test_istio_identity_format():
    statement = mesh_facts("istio-sidecar").fact("identity_format").statement
    assert "spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT" in statement


def test_cilium_identity_format():
    assert "spiffe://spiffe.cilium/identity/ID" in mesh_facts("cilium").fact("identity_format").statement


def test_lifetimes_are_24_hours_for_linkerd_and_istio():
    assert "24 hours" in mesh_facts("linkerd").fact("certificate_lifetime").statement
    assert "24-hour" in mesh_facts("istio-sidecar").fact("certificate_lifetime").statement


def test_cilium_mutual_auth_does_not_encrypt():
    statement = mesh_facts("cilium").fact("traffic_encryption").statement
    assert statement.startswith("Not by mutual authentication")
    assert "WireGuard" in statement


def test_cilium_mutual_auth_is_beta():
    assert "beta" in mesh_facts("cilium").fact("maturity").statement


def test_compare_lists_every_mesh():
    rows = compare("handshake_location")
    assert [name for name, _ in rows] == [mesh.name for mesh in MESHES.values()]


def test_unknown_mesh_is_rejected():
    with pytest.raises(InputError, match="unknown mesh"):
        mesh_facts("consul")


def test_unknown_topic_is_rejected():
    with pytest.raises(InputError, match="unknown topic"):
        compare("latency")


@pytest.mark.parametrize("key", sorted(MESHES))
def test_three_kinds_of_proof_per_mesh(key):
    kinds = [evidence.kind for evidence in proofs_for(key)]
    assert kinds == list(EVIDENCE_KINDS)


@pytest.mark.parametrize("key", sorted(MESHES))
def test_every_proof_has_a_source(key):
    for evidence in proofs_for(key):
        assert evidence.sources, evidence.kind
        assert all(source.url.startswith("https://") for source in evidence.sources)
