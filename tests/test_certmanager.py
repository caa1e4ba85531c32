"""cert-manager resources generated from the kit's parameters, and the timing checks on them."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from mtlslab.lifecycle.certmanager import CertManagerPlan, check_timings, go_duration, manifests, manifests_yaml

HOUR = dt.timedelta(hours=1)


def test_resources_in_apply_order():
    kinds = [resource["kind"] for resource in manifests(CertManagerPlan())]
    assert kinds == ["ClusterIssuer", "Certificate", "ClusterIssuer", "Certificate", "Certificate", "Bundle"]


def test_yaml_round_trips():
    plan = CertManagerPlan()
    assert list(yaml.safe_load_all(manifests_yaml(plan))) == manifests(plan)


def test_ca_certificate_bootstraps_from_selfsigned():
    resources = manifests(CertManagerPlan())
    assert resources[0]["spec"] == {"selfSigned": {}}
    ca = resources[1]["spec"]
    assert ca["isCA"] is True
    assert ca["issuerRef"]["name"] == "selfsigned-bootstrap"
    assert resources[2]["spec"] == {"ca": {"secretName": ca["secretName"]}}


def test_workload_certificate_fields():
    workload = manifests(CertManagerPlan())[3]["spec"]
    assert workload["uris"] == ["spiffe://cluster.local/ns/shop/sa/web"]
    assert workload["duration"] == "24h"
    assert workload["renewBefore"] == "8h"
    assert "client auth" in workload["usages"]
    assert "server auth" in workload["usages"]


def test_bundle_copies_ca_certificate():
    bundle = manifests(CertManagerPlan())[-1]
    assert bundle["apiVersion"] == "trust.cert-manager.io/v1alpha1"
    assert bundle["spec"]["sources"] == [{"secret": {"name": "mesh-root-ca", "key": "ca.crt"}}]


def test_renew_before_left_out_when_unset():
    spec = manifests(CertManagerPlan(leaf_renew_before=None))[3]["spec"]
    assert "renewBefore" not in spec


@pytest.mark.parametrize(
    ("value", "text"),
    [(dt.timedelta(days=90), "2160h"), (dt.timedelta(minutes=90), "1h30m"), (dt.timedelta(seconds=45), "45s"), (dt.timedelta(0), "0s")],
)
def test_go_duration(value, text):
    assert go_duration(value) == text


def test_default_plan_has_no_findings():
    assert check_timings(CertManagerPlan()) == []


def test_unset_renew_before_is_two_thirds():
    assert check_timings(CertManagerPlan(leaf_renew_before=None)) == []


def test_renew_before_longer_than_duration_is_error():
    findings = check_timings(CertManagerPlan(leaf_renew_before=30 * HOUR))
    assert [finding["id"] for finding in findings] == ["renew-before-exceeds-duration"]
    assert findings[0]["severity"] == "error"
    assert findings[0]["runbook"] == "runbooks/renew-before-exceeds-duration.md"


def test_late_renewal_is_warning():
    findings = check_timings(CertManagerPlan(leaf_renew_before=HOUR))
    assert [finding["id"] for finding in findings] == ["renewal-timing"]
    assert "late" in findings[0]["message"]


def test_early_renewal_is_warning():
    findings = check_timings(CertManagerPlan(leaf_renew_before=20 * HOUR))
    assert "early" in findings[0]["message"]


def test_leaf_outliving_ca_is_warning():
    plan = CertManagerPlan(ca_duration=dt.timedelta(days=30), leaf_duration=dt.timedelta(days=60), leaf_renew_before=dt.timedelta(days=20))
    findings = check_timings(plan)
    assert [finding["id"] for finding in findings] == ["outlives-issuer"]
    assert findings[0]["evidence"] == {"leaf duration": "1440h", "CA duration": "720h"}
