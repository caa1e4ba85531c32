"""Expiry order in a chain: a certificate that outlives its issuer, found and fixed."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.errors import InputError
from mtlslab.lifecycle.expiry import check_chain_expiry, outlives_issuer_by
from mtlslab.pki.renew import renew
from mtlslab.pki import VerificationError, verify_client_chain

HOUR = dt.timedelta(hours=1)
WEB_ID = "spiffe://test.local/ns/demo/sa/web"


@pytest.fixture(scope="module")
def short_issuer(root):
    return root.create_intermediate("Short Issuer", lifetime=12 * HOUR)


@pytest.fixture(scope="module")
def long_leaf(short_issuer):
    return short_issuer.issue_client("web", spiffe_id=WEB_ID, lifetime=24 * HOUR)


def test_outlives_by_difference(short_issuer, long_leaf):
    overrun = outlives_issuer_by(long_leaf.certificate, short_issuer.certificate)
    assert 12 * HOUR - dt.timedelta(seconds=5) <= overrun <= 12 * HOUR + dt.timedelta(seconds=5)


def test_outlives_zero_for_shorter_leaf(short_issuer):
    leaf = short_issuer.issue_client("web", spiffe_id=WEB_ID, lifetime=6 * HOUR)
    assert outlives_issuer_by(leaf.certificate, short_issuer.certificate) == dt.timedelta(0)


def test_long_leaf_fails_after_issuer_expiry(root, long_leaf):
    later = dt.datetime.now(dt.timezone.utc) + 13 * HOUR
    assert long_leaf.certificate.not_valid_after_utc > later
    with pytest.raises(VerificationError, match="not valid at validation time"):
        verify_client_chain(long_leaf.certificate, long_leaf.chain, [root.certificate], at=later)


def test_chain_check_reports_outliving_leaf(root, long_leaf):
    findings = check_chain_expiry([long_leaf.certificate, *long_leaf.chain, root.certificate])
    assert [finding["id"] for finding in findings] == ["outlives-issuer"]
    assert findings[0]["evidence"]["certificate"] == "CN=web"
    assert findings[0]["evidence"]["issuer"] == "CN=Short Issuer,O=mtlslab"
    assert findings[0]["runbook"] == "runbooks/outlives-issuer.md"


def test_chain_check_passes_after_issuer_renewal(root, short_issuer, long_leaf):
    longer_issuer = renew(root, short_issuer, lifetime=30 * 24 * HOUR)
    fixed = renew(longer_issuer, long_leaf)
    assert check_chain_expiry([fixed.certificate, *fixed.chain, root.certificate]) == []
    assert verify_client_chain(fixed.certificate, fixed.chain, [root.certificate], at=dt.datetime.now(dt.timezone.utc) + 13 * HOUR)


def test_chain_check_passes_default_pki(root, client):
    assert check_chain_expiry([client.certificate, *client.chain, root.certificate]) == []


def test_chain_check_rejects_wrong_order(root, long_leaf):
    with pytest.raises(InputError, match="did not issue certificate 1"):
        check_chain_expiry([long_leaf.certificate, root.certificate])
