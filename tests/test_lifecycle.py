"""Renewal and rotation, run for real on loopback, with the handshake counts asserted."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.handshake import run_handshake
from mtlslab.pki.renew import renew, renew_root, same_key
from mtlslab.lifecycle.rotation import WORKLOADS, anchor_rotation, issuer_rotation, renewal_without_reload
from mtlslab.lifecycle.timeline import plot_timeline
from mtlslab.pki import VerificationError, client_context, server_context, summarize, verify_client_chain

ROUNDS = 3
PER_STEP = ROUNDS * len(WORKLOADS)


def test_renew_keeps_identity(intermediate, client):
    successor = renew(intermediate, client)
    before, after = summarize(client.certificate), summarize(successor.certificate)
    assert after.subject == before.subject
    assert after.subject_alt_names == before.subject_alt_names
    assert after.extended_key_usage == before.extended_key_usage
    assert after.serial_number != before.serial_number


def test_renew_new_key_by_default(intermediate, client):
    assert not same_key(client, renew(intermediate, client))


def test_renew_can_reuse_key(intermediate, client):
    assert same_key(client, renew(intermediate, client, reuse_key=True))


def test_renew_extends_expired_certificate(root, intermediate, server):
    now = dt.datetime.now(dt.timezone.utc)
    expired = intermediate.issue_client("late", valid_from=now - dt.timedelta(days=2), lifetime=dt.timedelta(days=1))
    renewed = renew(intermediate, expired)
    assert summarize(renewed.certificate).status == "valid"
    result = run_handshake(server_context(server, root), client_context(root, renewed))
    assert result.ok, str(result)


def test_renew_by_new_issuer_chains_to_it(root, client):
    new_issuer = root.create_intermediate("Issuer 2")
    renewed = renew(new_issuer, client)
    assert renewed.certificate.issuer == new_issuer.certificate.subject
    assert renewed.chain == (new_issuer.certificate,)


def test_issuer_rotation_loses_nothing():
    results = issuer_rotation(rounds=ROUNDS)
    assert [result.failed for result in results] == [0, 0, 0]
    assert all(result.succeeded == PER_STEP for result in results)


def test_overlapped_anchor_rotation_loses_nothing():
    results = anchor_rotation(rounds=ROUNDS)
    assert len(results) == 5
    assert sum(result.failed for result in results) == 0
    assert all(result.succeeded == PER_STEP for result in results)


def test_early_anchor_removal_fails_only_old_chains():
    results = anchor_rotation(rounds=ROUNDS, remove_old_anchor_early=True)
    assert [result.failed for result in results[:4]] == [0, 0, 0, 0]
    last = results[-1]
    assert last.failed_by_workload == {"db": ROUNDS}
    assert last.succeeded == PER_STEP - ROUNDS
    assert set(last.errors) == {"TLSV1_ALERT_UNKNOWN_CA"}


def test_reloading_server_survives_expiry():
    results = renewal_without_reload(rounds=ROUNDS, reload=True)
    assert [result.failed for result in results] == [0, 0, 0]


def test_server_without_reload_serves_expired_certificate():
    results = renewal_without_reload(rounds=ROUNDS, reload=False)
    assert [result.failed for result in results[:2]] == [0, 0]
    assert results[-1].failed == PER_STEP
    assert set(results[-1].errors) == {"certificate has expired"}


def test_timeline_has_bar_per_step():
    results = issuer_rotation(rounds=1)
    figure = plot_timeline(results, "issuer rotation")
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == [result.step for result in results]


@pytest.mark.parametrize("rounds", [1, 2])
def test_step_counts_scale_with_rounds(rounds):
    results = issuer_rotation(rounds=rounds)
    assert results[0].succeeded == rounds * len(WORKLOADS)


def test_renewed_intermediate_can_issue(root):
    issuer = root.create_intermediate("Short Issuer", lifetime=dt.timedelta(hours=12))
    renewed = renew(root, issuer, lifetime=dt.timedelta(days=30))
    leaf = renewed.issue_client("web", spiffe_id="spiffe://test.local/ns/demo/sa/web")
    assert renewed.parent is root
    assert renewed.certificate.subject == issuer.certificate.subject
    assert verify_client_chain(leaf.certificate, leaf.chain, [root.certificate])[-1] == root.certificate


def test_renew_root_same_key_keeps_old_chains(root, client):
    renewed = renew_root(root, reuse_key=True)
    assert same_key(root, renewed)
    assert summarize(renewed.certificate).self_signed
    assert verify_client_chain(client.certificate, client.chain, [renewed.certificate])


def test_renew_root_new_key_breaks_old_chains(root, client):
    renewed = renew_root(root)
    assert not same_key(root, renewed)
    assert summarize(renewed.certificate).self_signed
    with pytest.raises(VerificationError, match="signature does not match"):
        verify_client_chain(client.certificate, client.chain, [renewed.certificate])


def test_renew_root_new_key_issues_trusted_leaves(root):
    renewed = renew_root(root)
    leaf = renewed.create_intermediate("Issuer B").issue_client("web", spiffe_id="spiffe://test.local/ns/demo/sa/web")
    assert verify_client_chain(leaf.certificate, leaf.chain, [renewed.certificate])[-1] == renewed.certificate
