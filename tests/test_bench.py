"""The benchmark code on tiny runs: the shape of the report, not its numbers."""

from __future__ import annotations

import json
import ssl

import pytest
from matplotlib.container import ErrorbarContainer

from mtlslab.bench import plots, suite

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


# --- loopback rounds: interleaved across modes -------------------------------------------


def _mode_of(server_context) -> str:
    if server_context is None:
        return "plaintext"
    return "mtls" if server_context.verify_mode == ssl.CERT_REQUIRED else "tls"


@pytest.fixture
def loopback_calls(monkeypatch):
    """Replace the loopback measurements with stubs that record which mode each call measured."""
    calls = []

    def new_connections(server, client, count):
        calls.append(("new", _mode_of(server), count))
        return [0.001] * count

    def reused(server, client, count):
        calls.append(("reused", _mode_of(server), count))
        return [0.0001] * count

    def bulk(server, client, megabytes):
        calls.append(("bulk", _mode_of(server), megabytes))
        return 100.0

    monkeypatch.setattr(suite.loopback, "new_connection_latencies", new_connections)
    monkeypatch.setattr(suite.loopback, "reused_connection_latencies", reused)
    monkeypatch.setattr(suite.loopback, "bulk_throughput", bulk)
    return calls


SIZES = suite.Sizes(connections=12, requests=3, bulk_megabytes=1, bulk_rounds=4)


def test_loopback_bulk_rounds_interleaved(loopback_calls):
    suite.measure_loopback(SIZES)
    modes = [mode for kind, mode, _ in loopback_calls if kind == "bulk"]
    for start in range(0, len(modes), 3):
        assert sorted(modes[start : start + 3]) == ["mtls", "plaintext", "tls"], modes


def test_loopback_bulk_not_back_to_back(loopback_calls):
    suite.measure_loopback(SIZES)
    modes = [mode for kind, mode, _ in loopback_calls if kind == "bulk"]
    assert modes[:SIZES.bulk_rounds] != ["plaintext"] * SIZES.bulk_rounds


def test_loopback_latency_batches_interleaved(loopback_calls):
    suite.measure_loopback(SIZES)
    modes = [mode for kind, mode, _ in loopback_calls if kind == "new"]
    assert len(modes) > 3
    for start in range(0, len(modes), 3):
        assert sorted(modes[start : start + 3]) == ["mtls", "plaintext", "tls"], modes


def test_loopback_rounds_rotate_first_mode(loopback_calls):
    suite.measure_loopback(SIZES)
    modes = [mode for kind, mode, _ in loopback_calls if kind == "bulk"]
    assert [modes[start] for start in range(0, len(modes), 3)] == ["plaintext", "tls", "mtls", "plaintext"]


def test_loopback_sample_counts_kept(loopback_calls):
    rows = suite.measure_loopback(SIZES)
    for row in rows:
        assert row["new_connection_seconds"]["n"] == SIZES.connections
        assert row["bulk_mib_per_second"]["n"] == SIZES.bulk_rounds
        assert row["reused_request_seconds"]["n"] == SIZES.requests


def test_loopback_report_shape(loopback_calls):
    rows = suite.measure_loopback(SIZES)
    assert [row["mode"] for row in rows] == ["plaintext", "tls", "mtls"]
    assert set(rows[0]) == {"mode", "new_connection_seconds", "reused_request_seconds", "bulk_mib_per_second"}


@pytest.mark.parametrize(("total", "count", "expected"), [(12, 5, [3, 3, 2, 2, 2]), (3, 5, [1, 1, 1]), (200, 5, [40] * 5)])
def test_latency_batches_add_up(total, count, expected):
    assert suite._batches(total, count) == expected


def test_loopback_plot_has_quartile_error_bars(monkeypatch, tmp_path):
    figures = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: figures.append(figure) or path)
    row = {"new_connection_seconds": spread([0.001, 0.002, 0.004]), "bulk_mib_per_second": spread([90.0, 100.0, 130.0])}
    plots.plot_loopback({"loopback": [{"mode": mode, **row} for mode in ("plaintext", "tls", "mtls")]}, tmp_path / "l.png")
    for axes in figures[0].axes:
        errorbars = [container for container in axes.containers if isinstance(container, ErrorbarContainer)]
        assert len(errorbars) == 1
        segments = errorbars[0].lines[2][0].get_segments()
        assert len(segments) == 3


def test_loopback_plot_error_bars_span_quartiles():
    rows = [{"bulk_mib_per_second": spread([90.0, 100.0, 130.0])}]
    medians, (below, above) = plots._medians_with_quartiles(rows, "bulk_mib_per_second")
    assert medians == [100.0]
    assert below == [5.0]
    assert above == [15.0]
