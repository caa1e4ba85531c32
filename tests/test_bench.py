"""The benchmark code on tiny runs: the shape of the report, not its numbers."""

from __future__ import annotations

import json

import pytest

from mtlslab.bench.__main__ import main
from mtlslab.bench.floor import time_operations
from mtlslab.bench.memory import memory_handshake
from mtlslab.bench.stats import spread
from mtlslab.bench.suite import QUICK, Scenario, contexts_for, measure_scenario

SPREAD_KEYS = {"median", "p25", "p75", "min", "max", "n"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--out", str(out)]) == 0
    return out


def test_report_sections(report):
    data = json.loads((report / "report.json").read_text())
    assert set(data) >= {"machine", "sizes", "handshakes", "loopback", "cryptographic_floor", "operations"}


def test_report_plots_written(report):
    for name in ("handshakes.png", "floor.png", "loopback.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG")


def test_every_figure_has_spread(report):
    data = json.loads((report / "report.json").read_text())
    for row in data["handshakes"]:
        assert set(row["server_seconds"]) == SPREAD_KEYS
        assert row["server_seconds"]["n"] == QUICK.handshakes
    for row in data["loopback"]:
        assert set(row["new_connection_seconds"]) == SPREAD_KEYS
        assert set(row["bulk_mib_per_second"]) == SPREAD_KEYS


def test_loopback_modes(report):
    data = json.loads((report / "report.json").read_text())
    assert [row["mode"] for row in data["loopback"]] == ["plaintext", "tls", "mtls"]


def test_mtls_sends_more_bytes_than_tls():
    mutual = measure_scenario(Scenario(mutual=True), 2)
    server_only = measure_scenario(Scenario(mutual=False), 2)
    assert mutual["handshake_bytes"]["median"] > server_only["handshake_bytes"]["median"]


def test_resumed_handshake_is_resumed():
    server, client = contexts_for(Scenario())
    first, session = memory_handshake(client, server)
    second, _ = memory_handshake(client, server, session=session)
    assert not first.resumed
    assert second.resumed
    assert second.handshake_bytes < first.handshake_bytes


def test_memory_handshake_rejects_untrusted_peer():
    server, _ = contexts_for(Scenario())
    _, stranger = contexts_for(Scenario())
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        memory_handshake(stranger, server)


def test_floor_counts_more_work_for_mutual():
    times = time_operations("ecdsa-p256", repeat=2)
    mutual = times.handshake_floor(mutual=True, intermediates=1)
    server_only = times.handshake_floor(mutual=False, intermediates=1)
    assert mutual["server"] > server_only["server"]
    assert mutual["client"] > server_only["client"]


def test_spread_of_samples():
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "p25": 1.5, "p75": 2.5, "min": 1.0, "max": 3.0, "n": 3}


def test_spread_rejects_empty():
    with pytest.raises(ValueError):
        spread([])
