"""Measured values as the notebooks print them.

Measurements change from run to run, so the nbval sanitizers in tests/nbval-sanitize.cfg
replace them before outputs are compared. Each function here writes one kind of value
in the one form that its sanitizer recognises; print measured values only through them.
"""

from __future__ import annotations


def duration(seconds: float) -> str:
    """Write a time in microseconds below one millisecond, else in milliseconds: ``420 µs``, ``1.80 ms``."""
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.2f} ms"


def byte_count(count: float) -> str:
    """Write a measured number of bytes with a tilde, because it differs by a few bytes between runs: ``~4107 bytes``."""
    return f"~{count:.0f} bytes"


def rate(per_second: float) -> str:
    """Write a handshake rate: ``556 handshakes/s``."""
    return f"{per_second:,.0f} handshakes/s"


def cores(count: float) -> str:
    """Write a number of CPU cores: ``1.80 cores``."""
    return f"{count:.2f} cores"


def throughput(mib_per_second: float) -> str:
    """Write a transfer rate in mebibytes per second: ``1,957 MiB/s``."""
    return f"{mib_per_second:,.0f} MiB/s"


def ratio(value: float) -> str:
    """Write how many times larger one value is than another: ``4.3×``."""
    return f"{value:.1f}×"


def percent(fraction: float) -> str:
    """Write a fraction as a percentage, with a space before the sign: ``23 %``."""
    return f"{fraction * 100:.0f} %"
