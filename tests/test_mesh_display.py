"""Text views of mesh facts, certificates and proofs show every statement with its sources."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.errors import InputError
from mtlslab.mesh.certificates import create_istio_ca, create_linkerd_issuer, create_linkerd_trust_anchor
from mtlslab.mesh.certificates import issue_istio_workload, issue_linkerd_workload
from mtlslab.mesh.display import all_sources, certificate_table, format_lifetime, format_proofs, format_topic
from mtlslab.mesh.facts import MESHES, TOPICS
from mtlslab.mesh.proof import EVIDENCE_KINDS, PROOFS


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_names_every_mesh_and_source(topic):
    text = format_topic(topic)
    for mesh in MESHES.values():
        assert mesh.name in text
        for source in mesh.fact(topic).sources:
            assert f"{source.version}: {source.url}" in text


def test_topic_for_chosen_meshes():
    text = format_topic("modes", ["cilium"])
    assert "Cilium" in text
    assert "Linkerd" not in text


def test_topic_unknown_topic_rejected():
    with pytest.raises(InputError, match="unknown topic"):
        format_topic("latency")


def test_topic_unknown_mesh_rejected():
    with pytest.raises(InputError, match="unknown mesh"):
        format_topic("modes", ["consul"])


@pytest.mark.parametrize(
    ("lifetime", "text"),
    [
        (dt.timedelta(hours=24, seconds=40), "24 h 40 s"),
        (dt.timedelta(hours=1), "1 h"),
        (dt.timedelta(minutes=90), "1 h 30 min"),
        (dt.timedelta(days=90), "2160 h"),
    ],
)
def test_lifetime_format(lifetime, text):
    assert format_lifetime(lifetime) == text


def test_certificate_table_rows():
    linkerd = issue_linkerd_workload(create_linkerd_issuer(create_linkerd_trust_anchor()), "shop", "web")
    istio = issue_istio_workload(create_istio_ca(), "shop", "web", key_type="ecdsa-p256")
    lines = certificate_table({"Linkerd": linkerd.certificate, "Istio": istio.certificate}).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("Linkerd")
    assert "DNS:web.shop.serviceaccount.identity.linkerd.cluster.local" in lines[2]
    assert "24 h 40 s" in lines[2]
    assert "URI:spiffe://cluster.local/ns/shop/sa/web" in lines[3]
    assert "serverAuth, clientAuth" in lines[3]


@pytest.mark.parametrize("mesh", sorted(PROOFS))
def test_proofs_list_three_kinds(mesh):
    text = format_proofs(mesh)
    for kind in EVIDENCE_KINDS:
        assert f"{kind}:" in text
    lines = text.splitlines()
    assert sum(line.startswith("  healthy: ") for line in lines) == 3
    assert sum(line.startswith("  unhealthy: ") for line in lines) == 3


def test_proofs_unknown_mesh_rejected():
    with pytest.raises(InputError, match="unknown mesh"):
        format_proofs("consul")


def test_all_sources_unique():
    sources = all_sources()
    assert len(sources) == len(set(sources))


def test_all_sources_cover_facts_and_proofs():
    cited = {source for mesh in MESHES.values() for fact in mesh.facts for source in fact.sources}
    cited |= {source for evidence in PROOFS.values() for item in evidence for source in item.sources}
    assert set(all_sources()) == cited
