"""How to prove that mTLS is really on: three kinds of evidence per mesh.

1. A capture: between two meshed pods a packet capture shows TLS records, and after the
   handshake only records of content type 23 (application_data, RFC 8446 section 5.1),
   never readable HTTP.
2. The mesh's own command-line tools, which report whether a connection used mTLS.
3. The peer identity the server side saw, which only exists if the client presented a
   certificate; on loopback, ``RequestResult.peer_identity`` of
   :mod:`mtlslab.mesh.simulator` shows the same thing for every request.
"""

from __future__ import annotations

from dataclasses import dataclass

from mtlslab.errors import InputError
from mtlslab.mesh import facts
from mtlslab.mesh.facts import Source

CONTENT_TYPE_NAMES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
EVIDENCE_KINDS = ("capture", "mesh_cli", "peer_identity")


@dataclass(frozen=True)
class Evidence:
    """One way to prove mTLS: what to run, what healthy output shows, and what a failure looks like."""

    kind: str
    command: str
    healthy: str
    unhealthy: str
    sources: tuple[Source, ...]



PROOFS: dict[str, tuple[Evidence, ...]] = {
    "linkerd": (
        Evidence(
            "capture",
            "kubectl -n NS exec POD -c linkerd-debug -- tshark -i any -d tcp.port==PORT,ssl | grep -v 127.0.0.1",
            "Traffic between pods appears only as TLS 'Application Data' records (content type 23).",
            "HTTP request lines such as 'GET /' between pod IPs: that connection bypassed the proxies.",
            (facts.LINKERD_MTLS, facts.LINKERD_VALIDATING),
        ),
        Evidence(
            "mesh_cli",
            "linkerd viz -n NS edges deployment   and   linkerd viz -n NS tap deploy/NAME",
            "edges shows a check mark in SECURED for each pair; tap shows tls=true on every request line.",
            "tap shows tls=no_tls_from_remote (the client is not meshed, for example a kubelet probe).",
            (facts.LINKERD_VALIDATING,),
        ),
        Evidence(
            "peer_identity",
            "linkerd viz -n NS edges deployment (the identities of both ends)",
            "The client identity is SA.NS.serviceaccount.identity.linkerd.cluster.local of the expected caller.",
            "No identity: the request arrived in plaintext and only the default policy let it in.",
            (facts.LINKERD_VALIDATING, facts.LINKERD_MTLS),
        ),
    ),
    "istio-sidecar": (
        Evidence(
            "capture",
            "kubectl -n NS exec POD -c istio-proxy -- sudo tcpdump dst port PORT -A   (needs values.global.proxy.privileged=true)",
            "Requests from meshed clients are unreadable bytes; only a client without a sidecar shows plain text.",
            "Readable HTTP from a meshed client: mTLS is off for that path (DISABLE, or a DestinationRule turned it off).",
            (facts.ISTIO_MIGRATION,),
        ),
        Evidence(
            "mesh_cli",
            "istioctl x describe pod POD -n NS   and   istioctl proxy-config secret POD -n NS",
            "describe reports that the pod enforces mTLS (for example 'HTTP/mTLS'); proxy-config secret lists "
            "the 'default' certificate (valid, with the pod's SPIFFE ID) and the ROOTCA.",
            "describe warns that the pod is not part of the mesh (no sidecar), or the secret is missing or expired.",
            (facts.ISTIO_DESCRIBE, facts.ISTIO_ISTIOCTL),
        ),
        Evidence(
            "peer_identity",
            "an AuthorizationPolicy with principals, or the access log field for the downstream peer",
            "The server's sidecar sees the client's SPIFFE ID spiffe://TD/ns/NS/sa/SA and a principals rule matches.",
            "Plaintext requests have no principal, so an ALLOW rule with principals returns 403.",
            (facts.ISTIO_AUTHORIZATION_POLICY,),
        ),
    ),
    "istio-ambient": (
        Evidence(
            "capture",
            "tcpdump -n -i eth0 port 15008 on a node, for a request between pods on different nodes",
            "Pod traffic travels to port 15008 (HBONE) as TLS records; no plaintext to the application port.",
            "Plaintext to the application port: the pod is not enrolled in ambient mode.",
            (facts.ISTIO_HBONE,),
        ),
        Evidence(
            "mesh_cli",
            "istioctl ztunnel-config workloads   and   istioctl ztunnel-config certificates ZTUNNEL_POD.istio-system",
            "PROTOCOL is HBONE for the workloads, and each has a valid Leaf certificate with its SPIFFE ID.",
            "PROTOCOL is TCP: ztunnel sends that workload's traffic without mTLS.",
            (facts.ISTIO_ZTUNNEL_TROUBLESHOOTING,),
        ),
        Evidence(
            "peer_identity",
            "kubectl -n istio-system logs -l app=ztunnel | grep -E 'inbound|outbound'",
            "Each 'connection complete' line names src.identity and dst.identity as SPIFFE IDs.",
            "No ztunnel log line for the connection: the traffic did not go through ztunnel.",
            (facts.ISTIO_ZTUNNEL_TROUBLESHOOTING,),
        ),
    ),
    "cilium": (
        Evidence(
            "capture",
            "kubectl -n kube-system exec ds/cilium -- tcpdump -n -i cilium_wg0   (WireGuard; compare with the node's eth0)",
            "On the wire between nodes only UDP port 51871 (WireGuard); readable packets appear only on cilium_wg0, "
            "inside the tunnel. Mutual authentication itself never changes the packets.",
            "Readable pod traffic on the node's physical interface: transparent encryption is off.",
            (facts.CILIUM_WIREGUARD, facts.CILIUM_MUTUAL_AUTH),
        ),
        Evidence(
            "mesh_cli",
            "kubectl -n kube-system exec ds/cilium -- cilium-dbg status | grep Encryption   and   "
            "kubectl -n kube-system exec ds/cilium -- cilium-dbg bpf auth list",
            "Encryption: Wireguard with Peers equal to the number of nodes minus one; the auth map lists the "
            "identity pair with AUTH TYPE spire and an expiration.",
            "Encryption: Disabled, or no auth map entry for the pair while hubble observe shows drops with the "
            "reason 'Authentication required' (AUTH_REQUIRED).",
            (facts.CILIUM_WIREGUARD, facts.CILIUM_AUTH_LIST, facts.CILIUM_FLOW_PROTO),
        ),
        Evidence(
            "peer_identity",
            "cilium config set debug true, then kubectl -n kube-system logs CILIUM_POD -c cilium-agent "
            "| grep 'Validated certificate\\|Successfully authenticated'",
            "The agent logs the peer's uri-san spiffe://spiffe.cilium/identity/ID and 'Successfully authenticated'.",
            "No such lines: no policy requires authentication, or the SPIRE integration is not running.",
            (facts.CILIUM_MUTUAL_AUTH_EXAMPLE,),
        ),
    ),
}


def proofs_for(mesh: str) -> tuple[Evidence, ...]:
    """Return the three kinds of evidence for ``mesh`` (linkerd, istio-sidecar, istio-ambient, cilium)."""
    try:
        return PROOFS[mesh]
    except KeyError:
        raise InputError(f"unknown mesh {mesh!r}: use one of {', '.join(PROOFS)}") from None


def tls_record_types(data: bytes) -> list[str]:
    """Name the TLS record content types at the start of a byte stream, as a capture would show them.

    Returns an empty list when the stream does not start with a TLS record, for example
    plaintext HTTP. Parsing stops at the first incomplete or unknown record.
    """
    names = []
    offset = 0
    while offset + 5 <= len(data):
        content_type = data[offset]
        if content_type not in CONTENT_TYPE_NAMES or data[offset + 1] != 0x03:
            break
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        if offset + 5 + length > len(data):
            break
        names.append(f"{CONTENT_TYPE_NAMES[content_type]} ({content_type})")
        offset += 5 + length
    return names


__all__ = ["CONTENT_TYPE_NAMES", "EVIDENCE_KINDS", "PROOFS", "Evidence", "proofs_for", "tls_record_types"]
