"""CRLs in real handshakes: a revoked client is rejected, others pass, and a stale or missing CRL fails."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.handshake import run_handshake
from mtlslab.pki import client_context, server_context
from mtlslab.pki.crl import issue_crl


@pytest.fixture(scope="module")
def revoked(intermediate):
    return intermediate.issue_client("compromised")


def handshake(root, server, client, crls):
    return run_handshake(server_context(server, root, crls=crls), client_context(root, client))


def test_revoked_client_rejected(root, intermediate, server, revoked):
    result = handshake(root, server, revoked, [issue_crl(intermediate, [revoked.certificate])])
    assert "certificate revoked" in result.server.error
    assert result.client.alert_received.name == "certificate_revoked"


def test_unrevoked_client_accepted(root, intermediate, server, client, revoked):
    result = handshake(root, server, client, [issue_crl(intermediate, [revoked.certificate])])
    assert result.ok, str(result)


def test_expired_crl_fails(root, intermediate, server, client):
    stale = issue_crl(intermediate, [], last_update=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3), lifetime=dt.timedelta(days=1))
    result = handshake(root, server, client, [stale])
    assert "CRL has expired" in result.server.error


def test_crl_from_wrong_issuer_fails(root, server, client):
    result = handshake(root, server, client, [issue_crl(root, [])])
    assert "unable to get certificate CRL" in result.server.error


def test_client_checks_server_against_crl(root, intermediate, client):
    server = intermediate.issue_server("localhost")
    crl = issue_crl(intermediate, [server.certificate])
    result = run_handshake(server_context(server, root), client_context(root, client, crls=[crl]))
    assert "certificate revoked" in result.client.error


def test_crl_entry_carries_reason(intermediate, revoked):
    from cryptography import x509

    crl = issue_crl(intermediate, [revoked.certificate], reason=x509.ReasonFlags.key_compromise)
    entry = crl.get_revoked_certificate_by_serial_number(revoked.certificate.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.next_update_utc > crl.last_update_utc
