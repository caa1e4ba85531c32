"""Verdicts of recorded handshakes: stage, alert, sender, protection and each side's error."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.handshake import PeerReport
from mtlslab.pki import client_context, server_context
from mtlslab.record import record_handshake
from mtlslab.verdict import error_summary, short_error, verdict_of, verdict_table


def _verdict(server, client, server_trust, client_trust, version, hostname="localhost"):
    transcript = record_handshake(
        server_context(server, server_trust, tls_version=version),
        client_context(client_trust, client, tls_version=version),
        server_hostname=hostname,
    )
    return verdict_of(transcript)


def test_success_has_no_alert(server, client, root):
    verdict = _verdict(server, client, root, root, "1.3")
    assert verdict.stage is None
    assert verdict.alert is None
    assert verdict.handshake == "complete"
    assert "alert on the wire: none" in str(verdict)


def test_tls13_missing_client_certificate(server, root):
    verdict = _verdict(server, None, root, root, "1.3")
    assert verdict.stage == 5
    assert (verdict.alert.name, verdict.alert.code) == ("certificate_required", 116)
    assert verdict.alert_sender == "server"
    assert verdict.alert_encrypted is True
    assert verdict.client.handshake_completed


def test_tls12_missing_client_certificate(server, root):
    verdict = _verdict(server, None, root, root, "1.2")
    assert verdict.stage == 5
    assert (verdict.alert.name, verdict.alert.code) == ("handshake_failure", 40)
    assert verdict.alert_encrypted is False
    assert not verdict.client.handshake_completed


def test_unknown_ca_for_server_in_clear(server, client, root, other_root):
    verdict = _verdict(server, client, root, other_root, "1.3")
    assert verdict.stage == 3
    assert verdict.alert_sender == "client"
    assert verdict.alert.name == "unknown_ca"
    assert verdict.alert_encrypted is False


def test_hostname_mismatch(server, client, root):
    verdict = _verdict(server, client, root, root, "1.3", hostname="api.workshop.local")
    assert verdict.stage == 3
    assert verdict.alert.name == "bad_certificate"
    assert "Hostname mismatch" in verdict.client.error


def test_expired_client_certificate(server, intermediate, root):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)
    expired = intermediate.issue_client("client", valid_from=past, lifetime=dt.timedelta(days=1))
    verdict = _verdict(server, expired, root, root, "1.2")
    assert verdict.stage == 5
    assert verdict.alert.name == "certificate_expired"


def test_str_lines(server, root):
    lines = str(_verdict(server, None, root, root, "1.3")).splitlines()
    assert lines[0] == "TLS 1.3: stopped at stage 5 (client verification by the server)"
    assert lines[1] == "alert on the wire: certificate_required (116), fatal, sent by the server, encrypted"
    assert lines[2].startswith("client: failed during exchange")


def test_short_error_strips_code():
    report = PeerReport("server", error="[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired")
    assert short_error(report) == "certificate has expired"


def test_short_error_ok():
    assert short_error(PeerReport("client", handshake_completed=True)) == "OK"


def test_short_error_after_completion():
    report = PeerReport(
        "client", handshake_completed=True, error="[SSL: X] tlsv13 alert certificate required", error_phase="exchange"
    )
    assert short_error(report) == "tlsv13 alert certificate required (in the exchange, after its handshake completed)"


@pytest.fixture(scope="module")
def two_verdicts(server, client, root):
    return [
        ("none", _verdict(server, client, root, root, "1.3")),
        ("no client certificate", _verdict(server, None, root, root, "1.2")),
    ]


def test_verdict_table_rows(two_verdicts):
    lines = verdict_table(two_verdicts).splitlines()
    assert lines[0].split() == ["fault", "TLS", "stops", "at", "alert", "on", "the", "wire", "sent", "by", "protection"]
    assert lines[2].split() == ["none", "1.3", "complete", "-", "-", "-"]
    assert lines[3].split()[-7:] == ["stage", "5", "handshake_failure", "(40)", "server", "in", "clear"]


def test_verdict_table_columns_aligned(two_verdicts):
    lines = verdict_table(two_verdicts).splitlines()
    column = lines[0].index("alert on the wire")
    assert lines[3][column:].startswith("handshake_failure (40)")


def test_error_summary_lines(two_verdicts):
    lines = error_summary(two_verdicts).splitlines()
    assert lines[:3] == ["none (TLS 1.3)", "  client: OK", "  server: OK"]
    assert lines[3] == "no client certificate (TLS 1.2)"
    assert lines[5] == "  server: peer did not return a certificate"
