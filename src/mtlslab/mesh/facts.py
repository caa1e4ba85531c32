"""Records of how Linkerd, Istio and Cilium handle mTLS, for learners to compare.

Every fact names the pages it was checked against: a URL and the product version those
pages describe. The statements are the kit's own summaries, not quotations. Versions:
Linkerd 2.19 (stable docs), Istio 1.28 (istio.io "latest" while 1.28 was current), and
Cilium's stable docs read from the cilium/cilium documentation sources together with
SPIRE 1.9 (the SPIRE image tag that Cilium's Helm chart pins).
"""

from __future__ import annotations

from dataclasses import dataclass

from mtlslab.errors import InputError

TOPICS = (
    "certificate_authority",
    "identity_format",
    "certificate_lifetime",
    "rotation",
    "key_type",
    "handshake_location",
    "traffic_encryption",
    "modes",
    "policy_identities",
    "maturity",
    "does_not_cover",
)


@dataclass(frozen=True)
class Source:
    """A documentation page or source file, with the product version it describes."""

    title: str
    url: str
    version: str


@dataclass(frozen=True)
class Fact:
    """One statement about a mesh, on one topic from :data:`TOPICS`, with its sources."""

    topic: str
    statement: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class MeshFacts:
    """The facts about one mesh or mesh mode."""

    key: str
    name: str
    facts: tuple[Fact, ...]

    def fact(self, topic: str) -> Fact:
        """Return the fact on ``topic``, or raise InputError naming the topics there are."""
        for fact in self.facts:
            if fact.topic == topic:
                return fact
        raise InputError(f"no fact on {topic!r} for {self.name}: use one of {', '.join(TOPICS)}")

    def table(self) -> list[tuple[str, str]]:
        """Return (topic, statement) rows in :data:`TOPICS` order, for printing."""
        return [(fact.topic, fact.statement) for fact in sorted(self.facts, key=lambda f: TOPICS.index(f.topic))]


def _linkerd(title: str, path: str) -> Source:
    return Source(title, f"https://linkerd.io/2.19/{path}", "Linkerd 2.19")


def _istio(title: str, path: str) -> Source:
    return Source(title, f"https://istio.io/latest/docs/{path}", "Istio 1.28")


def _cilium(title: str, path: str) -> Source:
    return Source(title, f"https://docs.cilium.io/en/stable/{path}", "Cilium stable docs")


LINKERD_MTLS = _linkerd("Automatic mTLS", "features/automatic-mtls/")
LINKERD_POLICY = _linkerd("Authorization Policy (feature)", "features/server-policy/")
LINKERD_POLICY_REFERENCE = _linkerd("Authorization Policy (reference)", "reference/authorization-policy/")
LINKERD_GENERATE_CERTIFICATES = _linkerd("Generating your own mTLS root certificates", "tasks/generate-certificates/")
LINKERD_VALIDATING = _linkerd("Validating your mTLS traffic", "tasks/validating-your-traffic/")
LINKERD_MESH_EXPANSION = _linkerd("Adding non-Kubernetes workloads to your mesh", "tasks/adding-non-kubernetes-workloads/")
LINKERD_CHART_VALUES = Source(
    "linkerd-control-plane Helm chart values (identity.issuer)",
    "https://github.com/linkerd/linkerd2/blob/main/charts/linkerd-control-plane/values.yaml",
    "Linkerd 2.19 chart",
)
LINKERD_CA_SOURCE = Source(
    "linkerd2 pkg/tls/ca.go (end-entity certificate template)",
    "https://github.com/linkerd/linkerd2/blob/main/pkg/tls/ca.go",
    "linkerd2 main branch",
)
LINKERD_IDENTITY_SOURCE = Source(
    "linkerd2 pkg/identity/service.go (CSR checks)",
    "https://github.com/linkerd/linkerd2/blob/main/pkg/identity/service.go",
    "linkerd2 main branch",
)
LINKERD_PROXY_REFRESH = Source(
    "linkerd2-proxy identity client (refresh schedule)",
    "https://github.com/linkerd/linkerd2-proxy/blob/main/linkerd/proxy/identity-client/src/certify.rs",
    "linkerd2-proxy main branch",
)

ISTIO_SECURITY = _istio("Security concepts", "concepts/security/")
ISTIO_PEER_AUTHENTICATION = _istio("PeerAuthentication reference", "reference/config/security/peer_authentication/")
ISTIO_AUTHORIZATION_POLICY = _istio("AuthorizationPolicy reference", "reference/config/security/authorization-policy/")
ISTIO_PLUG_IN_CA = _istio("Plug in CA Certificates", "tasks/security/cert-management/plugin-ca-cert/")
ISTIO_MIGRATION = _istio("Mutual TLS Migration", "tasks/security/authentication/mtls-migration/")
ISTIO_PILOT_AGENT = _istio("pilot-agent reference (SECRET_TTL, SECRET_GRACE_PERIOD_RATIO, WORKLOAD_RSA_KEY_SIZE)", "reference/commands/pilot-agent/")
ISTIO_HBONE = _istio("HBONE", "ambient/architecture/hbone/")
ISTIO_ZTUNNEL_TROUBLESHOOTING = _istio("Troubleshoot connectivity issues with ztunnel", "ambient/usage/troubleshoot-ztunnel/")
ISTIO_1_24 = Source(
    "Announcing Istio 1.24.0 (ambient mode generally available)",
    "https://istio.io/latest/news/releases/1.24.x/announcing-1.24/",
    "Istio 1.24",
)
# NOTE: the current Istio docs publish this guide only in Chinese (/latest/zh/...), and the
# Istio 1.20 archive is the newest English copy found.
ISTIO_ZTUNNEL_GUIDE = Source(
    "L4 Networking & mTLS with Ztunnel",
    "https://istio.io/v1.20/docs/ops/ambient/usage/ztunnel/",
    "Istio 1.20 (archived documentation)",
)
ISTIO_DESCRIBE = _istio("Understand your Mesh with istioctl describe", "ops/diagnostic-tools/istioctl-describe/")
ISTIO_ISTIOCTL = _istio("istioctl reference (proxy-config secret)", "reference/commands/istioctl/")

CILIUM_MUTUAL_AUTH = _cilium("Mutual Authentication (Beta)", "network/servicemesh/mutual-authentication/mutual-authentication/")
CILIUM_MUTUAL_AUTH_EXAMPLE = _cilium(
    "Mutual Authentication Example", "network/servicemesh/mutual-authentication/mutual-authentication-example/"
)
CILIUM_HELM = _cilium("Helm Reference (authentication.mutual.spire.*)", "helm-reference/")
CILIUM_WIREGUARD = _cilium("WireGuard Transparent Encryption", "security/network/encryption-wireguard/")
CILIUM_IPSEC = _cilium("IPsec Transparent Encryption", "security/network/encryption-ipsec/")
CILIUM_AUTH_LIST = _cilium("cilium-dbg bpf auth list", "cmdref/cilium-dbg_bpf_auth_list/")
CILIUM_FLOW_PROTO = Source(
    "Hubble flow API: DropReason AUTH_REQUIRED = 189",
    "https://github.com/cilium/cilium/blob/main/api/v1/flow/flow.proto",
    "cilium main branch",
)
SPIRE_SERVER = Source(
    "SPIRE Server configuration reference", "https://spiffe.io/docs/latest/deploying/spire_server/", "SPIRE 1.9"
)
SPIRE_AGENT = Source(
    "SPIRE Agent configuration reference", "https://spiffe.io/docs/latest/deploying/spire_agent/", "SPIRE 1.9"
)


def _fact(topic: str, statement: str, *sources: Source) -> Fact:
    return Fact(topic, statement, sources)


LINKERD = MeshFacts(
    "linkerd",
    "Linkerd",
    (
        _fact(
            "certificate_authority",
            "The control plane's identity controller is the CA. It signs with an issuer certificate and key kept in "
            "a Secret in the linkerd namespace; the issuer chains to a trust anchor that every proxy receives. "
            "linkerd install generates both (trust anchor valid 365 days); Helm users, cert-manager or Vault supply them.",
            LINKERD_MTLS,
            LINKERD_GENERATE_CERTIFICATES,
        ),
        _fact(
            "identity_format",
            "The identity is a DNS-like name bound to the pod's service account, "
            "SERVICE_ACCOUNT.NAMESPACE.serviceaccount.identity.linkerd.cluster.local, carried as the certificate's "
            "DNS SAN. The identity controller rejects a CSR with a URI SAN, so in-cluster proxies carry no SPIFFE ID; "
            "SPIFFE IDs appear for workloads outside Kubernetes that get their identity from SPIRE (mesh expansion).",
            LINKERD_MTLS,
            LINKERD_IDENTITY_SOURCE,
            LINKERD_MESH_EXPANSION,
        ),
        _fact(
            "certificate_lifetime",
            "Proxy certificates are valid for 24 hours (identity.issuer.issuanceLifetime 24h0m0s), widened by a "
            "20-second clock-skew allowance at both ends and never past the issuer certificate's expiry.",
            LINKERD_MTLS,
            LINKERD_CHART_VALUES,
            LINKERD_CA_SOURCE,
        ),
        _fact(
            "rotation",
            "Each proxy creates its private key in memory at startup, sends a CSR with its service account token to "
            "the identity controller, and requests a new certificate at 70% of the current one's lifetime. The trust "
            "anchor and the issuer are not rotated by Linkerd: rotate them by hand or with cert-manager.",
            LINKERD_MTLS,
            LINKERD_PROXY_REFRESH,
        ),
        _fact(
            "key_type",
            "ECDSA P-256 for trust anchor, issuer and proxy keys, signatures ECDSA with SHA-256; proxy certificates "
            "carry digitalSignature and keyEncipherment, and both serverAuth and clientAuth.",
            LINKERD_GENERATE_CERTIFICATES,
            LINKERD_CA_SOURCE,
        ),
        _fact(
            "handshake_location",
            "In the linkerd-proxy sidecar of each meshed pod: the client-side proxy originates TLS and checks the "
            "server's identity against the one the destination controller announced.",
            LINKERD_MTLS,
        ),
        _fact(
            "traffic_encryption",
            "Yes: the application bytes between two meshed pods travel inside the proxies' TLS 1.3 connection.",
            LINKERD_MTLS,
        ),
        _fact(
            "modes",
            "mTLS is automatic between meshed pods, but by default a meshed pod also accepts plaintext from unmeshed "
            "clients (default inbound policy all-unauthenticated). To require mTLS, set the "
            "config.linkerd.io/default-inbound-policy annotation to all-authenticated or cluster-authenticated, or "
            "put a Server on the port (its accessPolicy defaults to deny) and authorize meshed identities.",
            LINKERD_MTLS,
            LINKERD_POLICY,
            LINKERD_POLICY_REFERENCE,
        ),
        _fact(
            "policy_identities",
            "An AuthorizationPolicy targets a Server, HTTPRoute or Namespace and requires a MeshTLSAuthentication, "
            "which lists identity names in spec.identities (a leading '*' matches a whole domain) or service accounts "
            "in spec.identityRefs (kind ServiceAccount). The older ServerAuthorization names them in "
            "client.meshTLS.serviceAccounts.",
            LINKERD_POLICY_REFERENCE,
        ),
        _fact(
            "maturity",
            "Automatic mTLS and the policy CRDs are stable features; the policy CRDs still use the v1alpha1 "
            "(AuthorizationPolicy, MeshTLSAuthentication) and v1beta3 (Server) API versions.",
            LINKERD_POLICY_REFERENCE,
        ),
        _fact(
            "does_not_cover",
            "Traffic to or from unmeshed pods (for example kubelet probes) and ports marked as skip ports stay "
            "plaintext, and policy is enforced only on pods that have the proxy.",
            LINKERD_MTLS,
            LINKERD_POLICY,
        ),
    ),
)

ISTIO_SIDECAR = MeshFacts(
    "istio-sidecar",
    "Istio (sidecar mode)",
    (
        _fact(
            "certificate_authority",
            "istiod contains the CA. By default it signs with a self-signed root; with a plug-in CA the operator gives "
            "istiod an intermediate certificate and key (the cacerts Secret) under the organisation's root.",
            ISTIO_SECURITY,
            ISTIO_PLUG_IN_CA,
        ),
        _fact(
            "identity_format",
            "A SPIFFE ID in the certificate's URI SAN: spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT, "
            "with trust domain cluster.local unless configured.",
            ISTIO_SECURITY,
            ISTIO_AUTHORIZATION_POLICY,
        ),
        _fact(
            "certificate_lifetime",
            "The Istio agent requests 24-hour workload certificates (SECRET_TTL 24h).",
            ISTIO_PILOT_AGENT,
        ),
        _fact(
            "rotation",
            "The Istio agent in each pod creates the key and CSR, gets it signed by istiod, hands key and "
            "certificate to Envoy over SDS, and renews before expiry (SECRET_GRACE_PERIOD_RATIO 0.5, so at about "
            "half the lifetime).",
            ISTIO_SECURITY,
            ISTIO_PILOT_AGENT,
        ),
        _fact(
            "key_type",
            "RSA 2048 by default (WORKLOAD_RSA_KEY_SIZE); ECDSA when ECC_SIGNATURE_ALGORITHM is set.",
            ISTIO_PILOT_AGENT,
        ),
        _fact(
            "handshake_location",
            "In the Envoy sidecars: the client-side Envoy starts the mTLS handshake with the server-side Envoy and "
            "checks that the server certificate's identity may run the target service (secure naming).",
            ISTIO_SECURITY,
        ),
        _fact(
            "traffic_encryption",
            "Yes: requests between two sidecars travel inside the mTLS connection; the minimum TLS version is 1.2.",
            ISTIO_SECURITY,
        ),
        _fact(
            "modes",
            "PeerAuthentication sets the inbound mode per mesh, namespace, workload or port: PERMISSIVE accepts mTLS "
            "and plaintext, STRICT accepts only mTLS, DISABLE turns mTLS off, UNSET inherits. Without any policy the "
            "mesh-wide mode is PERMISSIVE.",
            ISTIO_PEER_AUTHENTICATION,
            ISTIO_MIGRATION,
        ),
        _fact(
            "policy_identities",
            "AuthorizationPolicy rules name peers in from.source.principals as TRUST_DOMAIN/ns/NAMESPACE/sa/SA "
            "(the SPIFFE ID without spiffe://); principals come from the peer certificate, so they only match mTLS "
            "traffic, and plaintext requests fail an ALLOW rule that lists principals.",
            ISTIO_AUTHORIZATION_POLICY,
            ISTIO_MIGRATION,
        ),
        _fact(
            "maturity",
            "PeerAuthentication and AuthorizationPolicy are stable and served as security.istio.io/v1.",
            ISTIO_PEER_AUTHENTICATION,
            ISTIO_AUTHORIZATION_POLICY,
        ),
        _fact(
            "does_not_cover",
            "In PERMISSIVE mode plaintext from pods without a sidecar is accepted and, unless an authorization policy "
            "says otherwise, not authenticated or authorized; secure naming does not stop DNS spoofing for TCP traffic.",
            ISTIO_MIGRATION,
            ISTIO_SECURITY,
        ),
    ),
)

ISTIO_AMBIENT = MeshFacts(
    "istio-ambient",
    "Istio (ambient mode with ztunnel)",
    (
        _fact(
            "certificate_authority",
            "istiod, as in sidecar mode (self-signed root or plug-in CA).",
            ISTIO_SECURITY,
            ISTIO_PLUG_IN_CA,
        ),
        _fact(
            "identity_format",
            "The same SPIFFE ID as in sidecar mode, spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT; ztunnel "
            "holds the certificates of the workloads on its node.",
            ISTIO_SECURITY,
            ISTIO_ZTUNNEL_TROUBLESHOOTING,
        ),
        _fact(
            "certificate_lifetime",
            "24-hour workload certificates, as in sidecar mode.",
            ISTIO_PILOT_AGENT,
        ),
        _fact(
            "rotation",
            "ztunnel receives from istiod the certificates of the pods on its node (istioctl ztunnel-config "
            "certificates lists them with their validity); the pods themselves hold no certificate.",
            ISTIO_ZTUNNEL_TROUBLESHOOTING,
        ),
        _fact(
            "key_type",
            "Whatever istiod issues for ztunnel; the kit found no documented default, so check a live cluster with "
            "istioctl ztunnel-config certificates.",
            ISTIO_ZTUNNEL_TROUBLESHOOTING,
        ),
        _fact(
            "handshake_location",
            "In ztunnel, one node proxy per node: connections between ambient pods are tunnelled over HBONE "
            "(HTTP/2 CONNECT inside mTLS) to port 15008 of the peer node's ztunnel or a waypoint.",
            ISTIO_HBONE,
        ),
        _fact(
            "traffic_encryption",
            "Yes: the HBONE tunnel is an mTLS connection, one per source and destination identity pair.",
            ISTIO_HBONE,
        ),
        _fact(
            "modes",
            "PeerAuthentication applies too, but DISABLE is not supported in ambient mode; STRICT rejects "
            "connections that bypass the mesh.",
            ISTIO_PEER_AUTHENTICATION,
        ),
        _fact(
            "policy_identities",
            "AuthorizationPolicy with principals, as in sidecar mode; ztunnel enforces layer 4 rules and a waypoint "
            "proxy is needed for HTTP rules.",
            ISTIO_AUTHORIZATION_POLICY,
            ISTIO_ZTUNNEL_GUIDE,
        ),
        _fact(
            "maturity",
            "Ambient mode (ztunnel, waypoints and their APIs) is generally available since Istio 1.24.",
            ISTIO_1_24,
        ),
        _fact(
            "does_not_cover",
            "ztunnel neither terminates nor parses HTTP: HTTP routing, HTTP telemetry and HTTP authorization need a "
            "waypoint proxy, and without one Istio reports only TCP metrics.",
            ISTIO_ZTUNNEL_GUIDE,
            ISTIO_ZTUNNEL_TROUBLESHOOTING,
        ),
    ),
)

CILIUM = MeshFacts(
    "cilium",
    "Cilium (mutual authentication with SPIRE, encryption with WireGuard or IPsec)",
    (
        _fact(
            "certificate_authority",
            "A SPIRE server, which Cilium's Helm chart can install in the cilium-spire namespace, is the root of "
            "trust; the chart configures its CA with an RSA 4096 key and the subject O=SPIRE, CN=Cilium SPIRE CA.",
            CILIUM_MUTUAL_AUTH,
            CILIUM_HELM,
        ),
        _fact(
            "identity_format",
            "spiffe://spiffe.cilium/identity/ID, where ID is the numeric Cilium security identity of a set of pods "
            "with the same labels (not a service account); the trust domain is set by "
            "authentication.mutual.spire.trustDomain.",
            CILIUM_MUTUAL_AUTH_EXAMPLE,
            CILIUM_HELM,
        ),
        _fact(
            "certificate_lifetime",
            "SPIRE defaults: X509-SVIDs valid 1 hour (default_x509_svid_ttl), the server CA 24 hours (ca_ttl); "
            "Cilium's chart leaves both at the default.",
            SPIRE_SERVER,
            CILIUM_HELM,
        ),
        _fact(
            "rotation",
            "The Cilium operator registers an entry in SPIRE for each Cilium identity; the Cilium agents fetch and "
            "renew SVIDs on behalf of the pods through the SPIRE agent on their node.",
            CILIUM_MUTUAL_AUTH,
            CILIUM_MUTUAL_AUTH_EXAMPLE,
        ),
        _fact(
            "key_type",
            "SVID keys are ECDSA P-256 by default (SPIRE agent workload_x509_svid_key_type).",
            SPIRE_AGENT,
        ),
        _fact(
            "handshake_location",
            "Between Cilium agents, out of band: when a policy requires authentication, the agent on the source "
            "node runs an mTLS handshake with the agent on the destination node using the two identities' SVIDs, and "
            "records the result in a BPF map. Pods never see a certificate and the handshake does not carry their traffic.",
            CILIUM_MUTUAL_AUTH,
            CILIUM_MUTUAL_AUTH_EXAMPLE,
        ),
        _fact(
            "traffic_encryption",
            "Not by mutual authentication: the application packets stay as they were. Encryption comes from "
            "Cilium's transparent encryption, WireGuard (UDP port 51871 between nodes) or IPsec, which encrypts "
            "traffic between nodes but not between pods on the same node.",
            CILIUM_MUTUAL_AUTH,
            CILIUM_WIREGUARD,
            CILIUM_IPSEC,
        ),
        _fact(
            "modes",
            "Per policy rule: a CiliumNetworkPolicy ingress or egress rule with authentication.mode: required "
            "allows the traffic only after the agents' handshake succeeded; other values are disabled and "
            "test-always-fail. There is no mesh-wide permissive or strict switch.",
            CILIUM_MUTUAL_AUTH_EXAMPLE,
        ),
        _fact(
            "policy_identities",
            "Policies select peers with endpoint selectors (pod labels, fromEndpoints/toEndpoints); Cilium maps the "
            "labels to the security identity whose SVID the agents check.",
            CILIUM_MUTUAL_AUTH_EXAMPLE,
        ),
        _fact(
            "maturity",
            "Mutual authentication is a beta feature (authentication.mutual.spire.enabled) and not compatible with "
            "Cluster Mesh or an external mTLS solution.",
            CILIUM_MUTUAL_AUTH,
            CILIUM_HELM,
        ),
        _fact(
            "does_not_cover",
            "Mutual authentication alone does not encrypt or integrity-protect the packets; enable WireGuard or "
            "IPsec for that. It is only tested with the SPIRE installation Cilium ships.",
            CILIUM_MUTUAL_AUTH,
        ),
    ),
)

MESHES: dict[str, MeshFacts] = {mesh.key: mesh for mesh in (LINKERD, ISTIO_SIDECAR, ISTIO_AMBIENT, CILIUM)}


def mesh_facts(key: str) -> MeshFacts:
    """Return the facts for ``key`` (linkerd, istio-sidecar, istio-ambient or cilium)."""
    try:
        return MESHES[key]
    except KeyError:
        raise InputError(f"unknown mesh {key!r}: use one of {', '.join(MESHES)}") from None


def compare(topic: str) -> list[tuple[str, str]]:
    """Return (mesh name, statement) for ``topic`` across every mesh, for a side-by-side table."""
    if topic not in TOPICS:
        raise InputError(f"unknown topic {topic!r}: use one of {', '.join(TOPICS)}")
    return [(mesh.name, mesh.fact(topic).statement) for mesh in MESHES.values()]
