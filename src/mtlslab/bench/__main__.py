"""Run the benchmark suite and write report.json and plots.

Usage: python -m mtlslab.bench [--out DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mtlslab.bench.plots import plot_floor, plot_handshakes, plot_loopback
from mtlslab.bench.suite import QUICK, Sizes, run_suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mtlslab.bench", description="Measure what mTLS costs on this machine.")
    parser.add_argument(
        "--out",
        default=os.environ.get("BENCH_OUT", "bench-results"),
        help="directory for report.json and the PNG plots (default: $BENCH_OUT or bench-results)",
    )
    parser.add_argument("--quick", action="store_true", help="run a few iterations only, to check that the suite works")
    arguments = parser.parse_args(argv)

    started = time.monotonic()
    report = run_suite(QUICK if arguments.quick else Sizes())
    report["seconds"] = time.monotonic() - started

    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    plot_handshakes(report, out / "handshakes.png")
    plot_floor(report, out / "floor.png")
    plot_loopback(report, out / "loopback.png")
    print(f"wrote {out / 'report.json'} and 3 plots in {report['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
