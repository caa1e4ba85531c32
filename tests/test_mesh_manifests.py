"""Generated mesh manifests validate against the projects' CRD schemas, and broken twins do not."""

from __future__ import annotations

import copy

import pytest
import yaml

from mtlslab.errors import InputError
from mtlslab.mesh import manifests
from mtlslab.mesh.manifests import MESHES, mesh_manifests, to_yaml
from mtlslab.mesh.validation import ManifestError, known_kinds, validate_manifest

CASES = [(mesh, mode) for mesh in MESHES for mode in ("STRICT", "PERMISSIVE")]


def generated(mesh, mode="STRICT"):
    return mesh_manifests(
        mesh, namespace="shop", server_account="payments", client_accounts=["checkout", "refunds"], mode=mode
    )


@pytest.mark.parametrize(("mesh", "mode"), CASES)
def test_generated_manifests_validate(mesh, mode):
    for manifest in generated(mesh, mode):
        crd = validate_manifest(manifest)
        assert crd.kind == manifest["kind"]


def test_schemas_cover_every_generated_kind():
    kinds = {(m["apiVersion"], m["kind"]) for mesh in MESHES for m in generated(mesh)}
    assert kinds <= set(known_kinds())


def test_istio_principals_use_trust_domain():
    policy = generated("istio")[1]
    principals = policy["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert principals == ["cluster.local/ns/shop/sa/checkout", "cluster.local/ns/shop/sa/refunds"]


def test_istio_mode_follows_parameter():
    assert generated("istio", "PERMISSIVE")[0]["spec"]["mtls"]["mode"] == "PERMISSIVE"
    assert generated("istio", "STRICT")[0]["spec"]["mtls"]["mode"] == "STRICT"


def test_linkerd_identities_use_identity_names():
    authentication = generated("linkerd")[1]
    assert authentication["spec"]["identities"][0] == "checkout.shop.serviceaccount.identity.linkerd.cluster.local"


def test_linkerd_identity_refs_validate():
    manifest = manifests.linkerd_meshtls_authentication("shop", "clients", [("shop", "checkout")], use_identity_refs=True)
    validate_manifest(manifest)
    assert manifest["spec"]["identityRefs"][0]["kind"] == "ServiceAccount"


def test_linkerd_strict_denies_unauthorized():
    assert generated("linkerd", "STRICT")[0]["spec"]["accessPolicy"] == "deny"
    assert generated("linkerd", "PERMISSIVE")[0]["spec"]["accessPolicy"] == "all-unauthenticated"


def test_cilium_requires_authentication_in_strict():
    rule = generated("cilium", "STRICT")[0]["spec"]["ingress"][0]
    assert rule["authentication"] == {"mode": "required"}
    assert "authentication" not in generated("cilium", "PERMISSIVE")[0]["spec"]["ingress"][0]


def test_yaml_round_trip():
    documents = list(yaml.safe_load_all(to_yaml(generated("linkerd"))))
    assert documents == generated("linkerd")


def broken(mesh, index, mutate):
    manifest = copy.deepcopy(generated(mesh)[index])
    mutate(manifest)
    return manifest


BROKEN = {
    "istio-wrong-mode": broken("istio", 0, lambda m: m["spec"]["mtls"].update(mode="STRICTEST")),
    "istio-wrong-action": broken("istio", 1, lambda m: m["spec"].update(action="PERMIT")),
    "istio-typo-field": broken("istio", 0, lambda m: m["spec"].update(mtl=m["spec"].pop("mtls"))),
    "istio-condition-without-key": broken("istio", 1, lambda m: m["spec"]["rules"][0].update(when=[{"values": ["x"]}])),
    "istio-missing-name": broken("istio", 0, lambda m: m["metadata"].pop("name")),
    "linkerd-server-missing-port": broken("linkerd", 0, lambda m: m["spec"].pop("port")),
    "linkerd-server-missing-selector": broken("linkerd", 0, lambda m: m["spec"].pop("podSelector")),
    "linkerd-policy-missing-target": broken("linkerd", 2, lambda m: m["spec"].pop("targetRef")),
    "linkerd-uppercase-identity": broken("linkerd", 1, lambda m: m["spec"].update(identities=["Checkout.shop"])),
    "linkerd-wrong-api-version": broken("linkerd", 2, lambda m: m.update(apiVersion="policy.linkerd.io/v1beta3")),
    "cilium-wrong-auth-mode": broken("cilium", 0, lambda m: m["spec"]["ingress"][0].update(authentication={"mode": "strict"})),
    "cilium-auth-without-mode": broken("cilium", 0, lambda m: m["spec"]["ingress"][0].update(authentication={})),
    "cilium-missing-selector": broken("cilium", 0, lambda m: m["spec"].pop("endpointSelector")),
    "cilium-wrong-protocol": broken(
        "cilium", 0, lambda m: m["spec"]["ingress"][0]["toPorts"][0]["ports"][0].update(protocol="HTTP")
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_manifest_is_rejected(case):
    with pytest.raises(ManifestError):
        validate_manifest(BROKEN[case])


def test_rejection_names_the_field():
    with pytest.raises(ManifestError, match=r"spec\.mtls\.mode: 'STRICTEST' is not one of"):
        validate_manifest(BROKEN["istio-wrong-mode"])


def test_unknown_kind_is_rejected():
    with pytest.raises(ManifestError, match="no schema for apiVersion 'v1' kind 'Service'"):
        validate_manifest({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mesh_manifests("consul", namespace="a", server_account="b", client_accounts=["c"]), "unknown mesh"),
        (lambda: mesh_manifests("istio", namespace="a", server_account="b", client_accounts=["c"], mode="OFF"), "unknown mTLS mode"),
        (lambda: manifests.istio_authorization_policy("a", "b", []), "missing principals"),
        (lambda: manifests.linkerd_server("a", "b", 80, proxy_protocol="HTTP/3"), "invalid proxyProtocol"),
        (lambda: manifests.cilium_network_policy("a", "b", ["c"], 70000), "invalid port"),
    ],
)
def test_bad_parameters_are_rejected(call, message):
    with pytest.raises(InputError, match=message):
        call()
