"""Workload certificates shaped the way Linkerd, Istio and Cilium with SPIRE issue them.

Each function issues a real certificate from the kit's CA classes, with the identity
format, key type, key usages and lifetime that the mesh uses by default, so a notebook
can compare them side by side with :func:`mtlslab.pki.summarize`. The sources for each
default are in :mod:`mtlslab.mesh.facts`.
"""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509

from mtlslab.errors import InputError
from mtlslab.pki import CertificateAuthority, Credential, istio_spiffe_id, validate_spiffe_id

LINKERD_WORKLOAD_LIFETIME = dt.timedelta(hours=24)
# identity.issuer.clockSkewAllowance in the linkerd-control-plane Helm chart: the issued
# certificate starts this much before now and ends this much after now + lifetime.
LINKERD_CLOCK_SKEW_ALLOWANCE = dt.timedelta(seconds=20)
ISTIO_WORKLOAD_LIFETIME = dt.timedelta(hours=24)
SPIRE_X509_SVID_LIFETIME = dt.timedelta(hours=1)
SPIRE_CA_LIFETIME = dt.timedelta(hours=24)
CILIUM_TRUST_DOMAIN = "spiffe.cilium"

# Kubernetes names (RFC 1123 labels) are what namespaces and service accounts use.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def linkerd_identity(namespace: str, service_account: str, trust_domain: str = "cluster.local") -> str:
    """Return Linkerd's identity name: ``SERVICE_ACCOUNT.NAMESPACE.serviceaccount.identity.linkerd.TRUST_DOMAIN``."""
    _check_name("namespace", namespace)
    _check_name("service account", service_account)
    return f"{service_account}.{namespace}.serviceaccount.identity.linkerd.{trust_domain}"


def cilium_spiffe_id(identity_id: int, trust_domain: str = CILIUM_TRUST_DOMAIN) -> str:
    """Return the SPIFFE ID Cilium registers in SPIRE for a security identity: ``spiffe://spiffe.cilium/identity/ID``."""
    if isinstance(identity_id, bool) or not isinstance(identity_id, int) or identity_id < 1:
        raise InputError(f"invalid Cilium identity {identity_id!r}: use the positive number from 'kubectl get ciliumidentities'")
    return validate_spiffe_id(f"spiffe://{trust_domain}/identity/{identity_id}")


def create_linkerd_trust_anchor(lifetime: dt.timedelta = dt.timedelta(days=365)) -> CertificateAuthority:
    """Create a trust anchor like the one ``linkerd install`` generates: ECDSA P-256, CN root.linkerd.cluster.local."""
    return CertificateAuthority.create_root(
        "root.linkerd.cluster.local", key_type="ecdsa-p256", lifetime=lifetime, organization=""
    )


def create_linkerd_issuer(
    trust_anchor: CertificateAuthority, lifetime: dt.timedelta = dt.timedelta(days=365)
) -> CertificateAuthority:
    """Create the identity issuer that Linkerd's identity controller signs with: CN identity.linkerd.cluster.local."""
    return trust_anchor.create_intermediate(
        "identity.linkerd.cluster.local", key_type="ecdsa-p256", lifetime=lifetime, organization=""
    )


def issue_linkerd_workload(
    issuer: CertificateAuthority,
    namespace: str,
    service_account: str,
    *,
    trust_domain: str = "cluster.local",
    lifetime: dt.timedelta = LINKERD_WORKLOAD_LIFETIME,
) -> Credential:
    """Issue a proxy certificate the way Linkerd's identity controller does.

    The identity name is both the commonName and the only DNS SAN; there is no URI SAN,
    because the identity controller rejects a CSR that carries one. The key is ECDSA
    P-256, key usage is digitalSignature and keyEncipherment, extended key usage is
    serverAuth and clientAuth (the proxy uses one certificate in both roles). Validity
    is widened by the clock-skew allowance on both ends and never outlasts the issuer.
    """
    identity = linkerd_identity(namespace, service_account, trust_domain)
    start = _now() - LINKERD_CLOCK_SKEW_ALLOWANCE
    end = min(start + lifetime + 2 * LINKERD_CLOCK_SKEW_ALLOWANCE, issuer.certificate.not_valid_after_utc)
    # NOTE: Linkerd's Go issuer adds no basicConstraints extension to leaves; the kit's
    # issuer always marks leaves CA:FALSE, which verifiers treat the same way.
    return issuer.issue(
        identity,
        dns_names=(identity,),
        extended_key_usage=("serverAuth", "clientAuth"),
        key_usage=("digital_signature", "key_encipherment"),
        key_type="ecdsa-p256",
        valid_from=start,
        lifetime=end - start,
    )


def create_istio_ca(trust_domain: str = "cluster.local", *, plug_in: bool = False) -> CertificateAuthority:
    """Create the CA that signs Istio workload certificates.

    By default istiod signs with its own self-signed root. With ``plug_in`` the kit builds
    the plug-in CA layout instead, an operator's root and an intermediate that istiod
    loads from the ``cacerts`` Secret, and returns that intermediate.
    """
    root = CertificateAuthority.create_root(
        "istio root CA (mtlslab)", key_type="rsa2048", organization=trust_domain
    )
    if not plug_in:
        return root
    return root.create_intermediate("istio plug-in intermediate CA (mtlslab)", key_type="rsa2048", organization=trust_domain)


def issue_istio_workload(
    ca: CertificateAuthority,
    namespace: str,
    service_account: str,
    *,
    trust_domain: str = "cluster.local",
    lifetime: dt.timedelta = ISTIO_WORKLOAD_LIFETIME,
    key_type: str = "rsa2048",
) -> Credential:
    """Issue a workload certificate the way istiod signs the Istio agent's CSR.

    The identity is only the SPIFFE URI SAN ``spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SA``;
    the subject is empty, so the SAN extension is critical (RFC 5280 section 4.2.1.6).
    The agent generates an RSA 2048 key unless ECC_SIGNATURE_ALGORITHM selects ECDSA
    (pass ``key_type="ecdsa-p256"`` for that). The default lifetime is 24 hours.
    """
    _check_name("namespace", namespace)
    _check_name("service account", service_account)
    return ca.issue(
        None,
        spiffe_id=istio_spiffe_id(namespace, service_account, trust_domain),
        extended_key_usage=("serverAuth", "clientAuth"),
        key_usage=_rsa_or_ec_usage(key_type),
        key_type=key_type,
        lifetime=lifetime,
    )


def create_spire_ca(trust_domain: str = CILIUM_TRUST_DOMAIN, *, key_type: str = "rsa4096") -> CertificateAuthority:
    """Create a SPIRE server CA as Cilium's Helm chart configures it.

    The chart sets the CA key type to RSA 4096 and the subject to O=SPIRE,
    CN=Cilium SPIRE CA; SPIRE's default CA lifetime is 24 hours. Pass
    ``key_type="ecdsa-p256"`` for a faster key in exercises.
    """
    validate_spiffe_id(f"spiffe://{trust_domain}")
    return CertificateAuthority.create_root(
        "Cilium SPIRE CA", key_type=key_type, lifetime=SPIRE_CA_LIFETIME, organization="SPIRE"
    )


def issue_cilium_workload(
    ca: CertificateAuthority,
    identity_id: int,
    *,
    trust_domain: str = CILIUM_TRUST_DOMAIN,
    lifetime: dt.timedelta = SPIRE_X509_SVID_LIFETIME,
) -> Credential:
    """Issue the X509-SVID that SPIRE gives a Cilium security identity.

    The SVID carries exactly one URI SAN, ``spiffe://spiffe.cilium/identity/ID``, where ID
    is the numeric Cilium identity of a set of pods with the same labels, not a service
    account. The Cilium agent, not the pod, keeps it and uses it in the handshake with
    the peer node's agent. Key ECDSA P-256 (the SPIRE agent default), lifetime 1 hour
    (the SPIRE server default), digitalSignature as the SPIFFE X509-SVID standard requires.
    """
    return ca.issue(
        None,
        spiffe_id=cilium_spiffe_id(identity_id, trust_domain),
        extended_key_usage=("serverAuth", "clientAuth"),
        key_usage=("digital_signature",),
        key_type="ecdsa-p256",
        lifetime=lifetime,
    )


def peer_identity(certificate: x509.Certificate | None) -> str | None:
    """Return the identity a mesh reads from a peer certificate: its SPIFFE URI SAN, else its first DNS SAN."""
    if certificate is None:
        return None
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith("spiffe://"):
            return uri
    dns_names = san.get_values_for_type(x509.DNSName)
    return dns_names[0] if dns_names else None


def _rsa_or_ec_usage(key_type: str) -> tuple[str, ...]:
    if key_type.startswith("rsa"):
        return ("digital_signature", "key_encipherment")
    return ("digital_signature",)


def _check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise InputError(
            f"invalid {what} {value!r}: use a Kubernetes name of lowercase letters, digits and '-', at most 63 characters"
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
