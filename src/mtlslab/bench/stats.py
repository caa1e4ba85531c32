"""Medians with their spread, because a single run of a benchmark says little."""

from __future__ import annotations

import statistics


def spread(samples: list[float]) -> dict[str, float]:
    """Return the median, quartiles, extremes and count of ``samples``."""
    if not samples:
        raise ValueError("no samples to summarize")
    ordered = sorted(samples)
    if len(ordered) >= 2:
        p25, _, p75 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        p25 = p75 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "p25": p25,
        "p75": p75,
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }
