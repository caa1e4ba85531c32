"""cert-manager and trust-manager resources for a workload PKI, generated from the kit's parameters.

The chain of resources bootstraps a CA inside the cluster: a SelfSigned ClusterIssuer
signs a CA Certificate (``isCA: true``), a CA ClusterIssuer signs with that CA's
Secret, workload Certificates come from the CA issuer, and a trust-manager Bundle
copies the CA certificate into every namespace so that peers can trust it.

Field names follow the cert-manager.io/v1 Certificate and ClusterIssuer resources and
the trust.cert-manager.io/v1alpha1 Bundle resource, as documented at
https://cert-manager.io/docs/usage/certificate/ and
https://cert-manager.io/docs/trust/trust-manager/api-reference/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import yaml

CERT_MANAGER_NAMESPACE = "cert-manager"


@dataclass(frozen=True)
class Workload:
    """A workload that gets a certificate: its namespace, service account and DNS names."""

    name: str
    namespace: str
    service_account: str
    dns_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertManagerPlan:
    """The parameters of the generated resources: names, durations and the workloads to issue for.

    A ``renew_before`` of None leaves renewBefore out, so cert-manager renews at two
    thirds of the lifetime, its documented default.
    """

    trust_domain: str = "cluster.local"
    ca_name: str = "mesh-root-ca"
    ca_duration: dt.timedelta = dt.timedelta(days=365)
    ca_renew_before: dt.timedelta | None = None
    leaf_duration: dt.timedelta = dt.timedelta(hours=24)
    leaf_renew_before: dt.timedelta | None = dt.timedelta(hours=8)
    workloads: tuple[Workload, ...] = field(
        default_factory=lambda: (
            Workload("web", "shop", "web", ("web.shop.svc", "web.shop.svc.cluster.local")),
            Workload("checkout", "shop", "checkout", ("checkout.shop.svc", "checkout.shop.svc.cluster.local")),
        )
    )

    def spiffe_id(self, workload: Workload) -> str:
        """Return the workload's SPIFFE ID in the ``spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/ACCOUNT`` form."""
        return f"spiffe://{self.trust_domain}/ns/{workload.namespace}/sa/{workload.service_account}"


def go_duration(value: dt.timedelta) -> str:
    """Format a duration as Go's time.Duration string in hours, minutes and seconds, e.g. ``2160h``."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if minutes else ""
    text += f"{seconds}s" if seconds else ""
    return text or "0s"


def manifests(plan: CertManagerPlan) -> list[dict]:
    """Return the resources in the order they must be applied."""
    resources = [
        _cluster_issuer("selfsigned-bootstrap", {"selfSigned": {}}),
        _ca_certificate(plan),
        _cluster_issuer(f"{plan.ca_name}-issuer", {"ca": {"secretName": plan.ca_name}}),
    ]
    resources += [_workload_certificate(plan, workload) for workload in plan.workloads]
    resources.append(_bundle(plan))
    return resources


def manifests_yaml(plan: CertManagerPlan) -> str:
    """Return the resources as one multi-document YAML file for ``kubectl apply -f``."""
    return yaml.safe_dump_all(manifests(plan), sort_keys=False)


def _cluster_issuer(name: str, spec: dict) -> dict:
    return {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": name}, "spec": spec}


def _ca_certificate(plan: CertManagerPlan) -> dict:
    spec = {
        "isCA": True,
        "commonName": plan.ca_name,
        "secretName": plan.ca_name,
        "duration": go_duration(plan.ca_duration),
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "selfsigned-bootstrap", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    }
    if plan.ca_renew_before is not None:
        spec["renewBefore"] = go_duration(plan.ca_renew_before)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": plan.ca_name, "namespace": CERT_MANAGER_NAMESPACE},
        "spec": spec,
    }


def _workload_certificate(plan: CertManagerPlan, workload: Workload) -> dict:
    spec = {
        "secretName": f"{workload.name}-tls",
        "duration": go_duration(plan.leaf_duration),
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "usages": ["digital signature", "server auth", "client auth"],
        "uris": [plan.spiffe_id(workload)],
        "issuerRef": {"name": f"{plan.ca_name}-issuer", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    }
    if workload.dns_names:
        spec["dnsNames"] = list(workload.dns_names)
    if plan.leaf_renew_before is not None:
        spec["renewBefore"] = go_duration(plan.leaf_renew_before)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": workload.name, "namespace": workload.namespace},
        "spec": spec,
    }


def _bundle(plan: CertManagerPlan) -> dict:
    return {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": f"{plan.ca_name}-bundle"},
        "spec": {
            "sources": [{"secret": {"name": plan.ca_name, "key": "ca.crt"}}],
            "target": {"configMap": {"key": "ca.crt"}},
        },
    }


def check_timings(plan: CertManagerPlan) -> list[dict]:
    """Check the plan's durations and return findings in the diagnose format (id, severity, message, ...).

    cert-manager renews a certificate when ``renewBefore`` remains of its lifetime, by
    default one third, so renewal starts at two thirds. A renewal point before half of
    the lifetime wastes issuance; one after four fifths leaves little time to notice a
    failed renewal before the certificate expires.
    """
    findings = []
    for name, duration, renew_before in (
        (plan.ca_name, plan.ca_duration, plan.ca_renew_before),
        ("workload certificates", plan.leaf_duration, plan.leaf_renew_before),
    ):
        findings += _renewal_findings(name, duration, renew_before)

    if plan.leaf_duration > plan.ca_duration:
        findings.append(
            _finding(
                "outlives-issuer",
                "warning",
                "workload certificates are issued for longer than their CA lives, so they stop verifying when the CA expires",
                {"leaf duration": go_duration(plan.leaf_duration), "CA duration": go_duration(plan.ca_duration)},
                "shorten the leaf duration or lengthen the CA's, and renew the CA well before it expires",
            )
        )
    return findings


def _renewal_findings(name: str, duration: dt.timedelta, renew_before: dt.timedelta | None) -> list[dict]:
    effective = renew_before if renew_before is not None else duration / 3
    evidence = {"certificate": name, "duration": go_duration(duration), "renewBefore": go_duration(effective)}
    if effective >= duration:
        return [
            _finding(
                "renew-before-exceeds-duration",
                "error",
                f"{name}: renewBefore is not shorter than duration, which cert-manager rejects",
                evidence,
                "set renewBefore to about one third of duration, or leave it out to get that default",
            )
        ]

    renewal_point = 1 - effective / duration
    if 0.5 <= renewal_point <= 0.8:
        return []
    timing = "early" if renewal_point < 0.5 else "late"
    return [
        _finding(
            "renewal-timing",
            "warning",
            f"{name}: renewal starts {timing}, at {renewal_point:.0%} of the lifetime instead of about two thirds",
            {**evidence, "renewal at": f"{renewal_point:.0%} of lifetime"},
            "set renewBefore to about one third of duration, or leave it out to get that default",
        )
    ]


def _finding(finding_id: str, severity: str, message: str, evidence: dict, fix: str) -> dict:
    return {
        "id": finding_id,
        "severity": severity,
        "message": message,
        "evidence": evidence,
        "fix": fix,
        "runbook": f"runbooks/{finding_id}.md",
    }
