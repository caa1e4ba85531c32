"""The catalog's stage of each scenario agrees with the stage the dissector finds in a recording of its handshake."""

from __future__ import annotations

import functools

import pytest

from mtlslab.faults import SCENARIOS, catalog
from mtlslab.faults.result import stage_of
from mtlslab.handshake import HandshakeResult, PeerReport
from mtlslab.record import record_handshake
from mtlslab.report import analyze_transcript


@functools.cache
def recorded(name: str):
    """Run scenario ``name`` with its handshake recorded in memory; return the dissected stages, or None."""
    transcripts = []

    def record(server_context, client_context, *, server_hostname="localhost", **_):
        transcript = record_handshake(server_context, client_context, server_hostname=server_hostname)
        transcripts.append(transcript)
        return HandshakeResult(client=transcript.client, server=transcript.server)

    original = catalog.run_handshake
    catalog.run_handshake = record
    try:
        setup = SCENARIOS[name].build()
        try:
            setup.handshake()
        except Exception:
            return None
    finally:
        catalog.run_handshake = original
    if not transcripts:
        return None
    return transcripts[0], analyze_transcript(transcripts[0]).connections[0]


# Scenarios whose handshake two Python peers run through run_handshake, and that send bytes.
RECORDED = [name for name, item in SCENARIOS.items() if item.stage > 0 and not item.requires_openssl]


@pytest.mark.parametrize("name", RECORDED)
def test_dissected_stage_matches_catalog(name):
    outcome = recorded(name)
    if outcome is None:
        pytest.skip("the scenario does not connect two Python peers through run_handshake")
    _, stages = outcome
    assert stages.stopped_at == SCENARIOS[name].stage, stages.outcome


@pytest.mark.parametrize("name", RECORDED)
def test_stage_of_matches_catalog(name):
    outcome = recorded(name)
    if outcome is None:
        pytest.skip("the scenario does not connect two Python peers through run_handshake")
    transcript, _ = outcome
    assert stage_of(transcript.client, transcript.server) == SCENARIOS[name].stage


@pytest.mark.parametrize("name", ["client-certificate-missing-tls13", "client-certificate-missing-tls12"])
def test_missing_client_certificate_is_stage_5(name):
    assert SCENARIOS[name].stage == 5


def _report(role: str, error: str | None, phase: str | None = "handshake") -> PeerReport:
    report = PeerReport(role)
    if error is not None:
        report.error, report.error_phase = error, phase
    return report


# Each rule of stage_of, with the peer reports that trigger it.
STAGE_TABLE = [
    ("plaintext request", _report("client", None), _report("server", "[SSL: HTTP_REQUEST] http request"), 1),
    ("no signature", _report("client", None), _report("server", "[SSL: NO_SHARED_CIPHER] no shared cipher"), 2),
    ("no server hello", _report("client", "[SSL: WRONG_VERSION_NUMBER] wrong version number"), _report("server", None), 2),
    ("server rejected", _report("client", "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), _report("server", None), 3),
    ("no client certificate", _report("client", None), _report("server", "[SSL: PEER_DID_NOT_RETURN_A_CERTIFICATE] peer did not return a certificate"), 5),
    ("client rejected", _report("client", None), _report("server", "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), 5),
    ("load failure", _report("client", "[SSL] key values mismatch", "configuration"), _report("server", None), 0),
    ("completed", _report("client", None), _report("server", None), 6),
]


@pytest.mark.parametrize("label, client, server, stage", STAGE_TABLE, ids=[row[0] for row in STAGE_TABLE])
def test_stage_of_rule(label, client, server, stage):
    assert stage_of(client, server) == stage
