"""Plots of a benchmark report, written as PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)


def plot_handshakes(report: dict, path: Path) -> Path:
    """Draw median CPU milliseconds per handshake for each side, with quartiles as error bars."""
    rows = report["handshakes"]
    names = [row["scenario"] for row in rows]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    positions = range(len(rows))
    for offset, side, colour in ((-0.2, "server", "#3b6ea8"), (0.2, "client", "#e0913a")):
        medians = [row[f"{side}_seconds"]["median"] * 1000 for row in rows]
        low = [medians[i] - rows[i][f"{side}_seconds"]["p25"] * 1000 for i in positions]
        high = [rows[i][f"{side}_seconds"]["p75"] * 1000 - medians[i] for i in positions]
        axes.barh([p + offset for p in positions], medians, height=0.4, xerr=[low, high], label=side, color=colour)
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    axes.set_xlabel("CPU time per handshake (ms, median with quartiles)")
    axes.set_title("Handshake cost by scenario")
    axes.legend()
    return _save(figure, path)


def plot_floor(report: dict, path: Path) -> Path:
    """Draw measured server CPU per handshake beside the estimated cryptographic floor."""
    rows = report["cryptographic_floor"]
    names = [row["scenario"] for row in rows]
    positions = range(len(rows))
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    measured = [row["measured_server_seconds"] * 1000 for row in rows]
    floor = [row["floor_server_seconds"] * 1000 for row in rows]
    axes.barh(list(positions), measured, height=0.6, color="#c9d6e8", label="measured (server)")
    axes.barh(list(positions), floor, height=0.3, color="#3b6ea8", label="public-key operations alone")
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    axes.set_xlabel("server CPU time per handshake (ms)")
    axes.set_title("How much of the handshake is cryptography")
    axes.legend()
    return _save(figure, path)


def plot_loopback(report: dict, path: Path) -> Path:
    """Draw new-connection latency and bulk throughput for plaintext, TLS and mTLS, with quartiles as error bars."""
    rows = report["loopback"]
    modes = [row["mode"] for row in rows]
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(10, 3.5))
    medians, errors = _medians_with_quartiles(rows, "new_connection_seconds", scale=1000)
    latency.bar(modes, medians, yerr=errors, capsize=4, color="#3b6ea8")
    latency.set_ylabel("ms per new connection (median, quartiles)")
    latency.set_title("Connect, handshake, one request")
    medians, errors = _medians_with_quartiles(rows, "bulk_mib_per_second")
    throughput.bar(modes, medians, yerr=errors, capsize=4, color="#e0913a")
    throughput.set_ylabel("MiB/s (median, quartiles)")
    throughput.set_title("Bulk upload after the handshake")
    return _save(figure, path)


def _medians_with_quartiles(rows: list[dict], key: str, scale: float = 1.0) -> tuple[list[float], list[list[float]]]:
    """Return the medians of ``key`` and their distances to the lower and upper quartiles, as matplotlib's yerr takes them."""
    medians = [row[key]["median"] * scale for row in rows]
    below = [median - row[key]["p25"] * scale for median, row in zip(medians, rows)]
    above = [row[key]["p75"] * scale - median for median, row in zip(medians, rows)]
    return medians, [below, above]


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
