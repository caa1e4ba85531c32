"""Kubernetes manifests that turn on and enforce mTLS in Istio, Linkerd and Cilium.

Each function returns a manifest as a dict; :func:`to_yaml` renders a list of them as a
multi-document YAML file for ``kubectl apply -f``. The kit checks every manifest it
generates against the mesh's CRD schema (:mod:`mtlslab.mesh.validation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

from mtlslab.errors import InputError
from mtlslab.mesh.certificates import linkerd_identity
from mtlslab.mesh.proxy import MODES, check_mode

ISTIO_API = "security.istio.io/v1"
LINKERD_POLICY_API = "policy.linkerd.io/v1alpha1"
LINKERD_SERVER_API = "policy.linkerd.io/v1beta3"
CILIUM_API = "cilium.io/v2"

# Values of Server.spec.proxyProtocol listed in Linkerd 2.19's policy reference; the CRD itself has no enum.
LINKERD_PROXY_PROTOCOLS = ("unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS")
MESHES = ("istio", "linkerd", "cilium")


def istio_peer_authentication(
    namespace: str, mode: str, *, name: str = "default", app_label: str | None = None
) -> dict:
    """Return a PeerAuthentication that sets ``mode`` for a namespace, or for one app with ``app_label``."""
    if mode not in ("UNSET", "DISABLE", "PERMISSIVE", "STRICT"):
        raise InputError(f"invalid Istio mTLS mode {mode!r}: use STRICT, PERMISSIVE, DISABLE or UNSET")
    spec: dict = {"mtls": {"mode": mode}}
    if app_label is not None:
        spec = {"selector": {"matchLabels": {"app": app_label}}, **spec}
    return _manifest(ISTIO_API, "PeerAuthentication", name, namespace, spec)


def istio_authorization_policy(
    namespace: str,
    app_label: str,
    allowed: Iterable[tuple[str, str]],
    *,
    trust_domain: str = "cluster.local",
    name: str | None = None,
) -> dict:
    """Return an ALLOW AuthorizationPolicy for pods labelled ``app: app_label``.

    ``allowed`` contains (namespace, service account) pairs, and each becomes a principal
    ``TRUST_DOMAIN/ns/NAMESPACE/sa/SA``, the SPIFFE ID without ``spiffe://``.
    """
    principals = [f"{trust_domain}/ns/{peer_namespace}/sa/{account}" for peer_namespace, account in allowed]
    if not principals:
        raise InputError("missing principals: an ALLOW policy without any allows nobody, so give at least one (namespace, service account)")
    spec = {
        "selector": {"matchLabels": {"app": app_label}},
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": principals}}]}],
    }
    return _manifest(ISTIO_API, "AuthorizationPolicy", name or f"{app_label}-allow-mtls-peers", namespace, spec)


def linkerd_server(
    namespace: str,
    app_label: str,
    port: int | str,
    *,
    proxy_protocol: str = "HTTP/1",
    access_policy: str = "deny",
    name: str | None = None,
) -> dict:
    """Return a Server for ``port`` on pods labelled ``app: app_label``.

    ``access_policy`` applies to traffic that no AuthorizationPolicy matches: ``deny``
    (the default) blocks it, ``all-unauthenticated`` lets plaintext through.
    """
    if proxy_protocol not in LINKERD_PROXY_PROTOCOLS:
        raise InputError(f"invalid proxyProtocol {proxy_protocol!r}: use one of {', '.join(LINKERD_PROXY_PROTOCOLS)}")
    spec = {
        "podSelector": {"matchLabels": {"app": app_label}},
        "port": port,
        "proxyProtocol": proxy_protocol,
        "accessPolicy": access_policy,
    }
    return _manifest(LINKERD_SERVER_API, "Server", name or app_label, namespace, spec)


def linkerd_meshtls_authentication(
    namespace: str,
    name: str,
    allowed: Iterable[tuple[str, str]],
    *,
    trust_domain: str = "cluster.local",
    use_identity_refs: bool = False,
) -> dict:
    """Return a MeshTLSAuthentication for (namespace, service account) pairs.

    By default it lists identity names (``SA.NS.serviceaccount.identity.linkerd.TRUST_DOMAIN``);
    with ``use_identity_refs`` it references the ServiceAccount objects instead.
    """
    allowed = list(allowed)
    if not allowed:
        raise InputError("a MeshTLSAuthentication needs at least one (namespace, service account)")
    if use_identity_refs:
        refs = [{"kind": "ServiceAccount", "name": account, "namespace": peer_namespace} for peer_namespace, account in allowed]
        spec = {"identityRefs": refs}
    else:
        spec = {"identities": [linkerd_identity(peer_namespace, account, trust_domain) for peer_namespace, account in allowed]}
    return _manifest(LINKERD_POLICY_API, "MeshTLSAuthentication", name, namespace, spec)


def linkerd_authorization_policy(namespace: str, server_name: str, authentication_name: str, *, name: str | None = None) -> dict:
    """Return an AuthorizationPolicy that lets clients matching a MeshTLSAuthentication reach a Server."""
    spec = {
        "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": server_name},
        "requiredAuthenticationRefs": [
            {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": authentication_name}
        ],
    }
    return _manifest(LINKERD_POLICY_API, "AuthorizationPolicy", name or f"{server_name}-mtls", namespace, spec)


def cilium_network_policy(
    namespace: str,
    app_label: str,
    allowed_app_labels: Iterable[str],
    port: int,
    *,
    authentication_mode: str = "required",
    name: str | None = None,
) -> dict:
    """Return a CiliumNetworkPolicy that lets pods with the given app labels reach ``port``.

    With ``authentication_mode`` ``required`` the agents must complete their SPIRE-backed
    mutual authentication before the traffic passes; ``disabled`` omits that step.
    """
    if authentication_mode not in ("required", "disabled"):
        raise InputError(f"invalid authentication mode {authentication_mode!r}: use required or disabled")
    sources = [{"matchLabels": {"app": label}} for label in allowed_app_labels]
    if not sources:
        raise InputError("the policy needs at least one allowed app label")
    rule: dict = {
        "fromEndpoints": sources,
        "toPorts": [{"ports": [{"port": str(_port(port)), "protocol": "TCP"}]}],
    }
    if authentication_mode == "required":
        rule["authentication"] = {"mode": "required"}
    spec = {"endpointSelector": {"matchLabels": {"app": app_label}}, "ingress": [rule]}
    return _manifest(CILIUM_API, "CiliumNetworkPolicy", name or f"{app_label}-mutual-auth", namespace, spec)


def mesh_manifests(
    mesh: str,
    *,
    namespace: str,
    server_account: str,
    client_accounts: Iterable[str],
    mode: str = "STRICT",
    trust_domain: str = "cluster.local",
    port: int = 8080,
) -> list[dict]:
    """Return the manifests that enforce mTLS for one server workload in ``mesh``.

    The workload's pods carry the label ``app: SERVER_ACCOUNT`` and run as that service
    account; the clients run as ``client_accounts`` in the same namespace. ``mode`` is
    STRICT (only the listed mTLS clients) or PERMISSIVE (they are authorized, plaintext
    is not refused by the mode), mapped onto each mesh's own mechanism:
    Istio PeerAuthentication, a Linkerd Server's accessPolicy, Cilium's authentication mode.
    """
    check_mode(mode)
    clients = list(client_accounts)
    allowed = [(namespace, account) for account in clients]
    if mesh == "istio":
        return [
            istio_peer_authentication(namespace, mode, name=f"{server_account}-mtls", app_label=server_account),
            istio_authorization_policy(namespace, server_account, allowed, trust_domain=trust_domain),
        ]
    if mesh == "linkerd":
        access = "deny" if mode == "STRICT" else "all-unauthenticated"
        authentication = f"{server_account}-clients"
        return [
            linkerd_server(namespace, server_account, port, access_policy=access),
            linkerd_meshtls_authentication(namespace, authentication, allowed, trust_domain=trust_domain),
            linkerd_authorization_policy(namespace, server_account, authentication),
        ]
    if mesh == "cilium":
        authentication = "required" if mode == "STRICT" else "disabled"
        return [cilium_network_policy(namespace, server_account, clients, port, authentication_mode=authentication)]
    raise InputError(f"unknown mesh {mesh!r}: use one of {', '.join(MESHES)}")


def to_yaml(manifests: Iterable[Mapping]) -> str:
    """Render manifests as one multi-document YAML string, keys in the order they were built."""
    return yaml.safe_dump_all([dict(manifest) for manifest in manifests], sort_keys=False, explicit_start=True)


def _manifest(api_version: str, kind: str, name: str, namespace: str, spec: dict) -> dict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"invalid port {port!r}: use a number from 1 to 65535")
    return port


__all__ = [
    "MESHES",
    "MODES",
    "cilium_network_policy",
    "istio_authorization_policy",
    "istio_peer_authentication",
    "linkerd_authorization_policy",
    "linkerd_meshtls_authentication",
    "linkerd_server",
    "mesh_manifests",
    "to_yaml",
]
