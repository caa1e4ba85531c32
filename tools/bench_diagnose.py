"""Time `mtlslab diagnose` on a leaf, its chain and a trust bundle of 150 roots.

The target is an answer in under 0.5 s of wall time, Python start-up included, because
the command runs in CI pipelines and in an engineer's shell. Each run is a new process;
the report gives the median and the spread of the runs.

    python tools/bench_diagnose.py [--runs 15] [--roots 150] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtlslab.pki import CertificateAuthority, write_credential, write_file

TARGET_SECONDS = 0.5


def build_setup(directory: Path, roots: int) -> list[str]:
    """Write a leaf with its chain, its key and a bundle of ``roots`` anchors; return the diagnose arguments."""
    root = CertificateAuthority.create_root("Bench Root CA")
    leaf = root.create_intermediate("Bench Intermediate CA").issue_server("bench.example")
    paths = write_credential(leaf, directory, "server")

    others = [CertificateAuthority.create_root(f"Other Root {number}") for number in range(roots - 1)]
    bundle = b"".join(anchor.cert_pem for anchor in [*others, root])
    write_file(directory / "bundle.pem", bundle)
    return [
        "--cert", str(paths["chain"]),
        "--key", str(paths["key"]),
        "--ca", str(directory / "bundle.pem"),
        "--as", "server",
        "--name", "bench.example",
    ]


def time_runs(arguments: list[str], runs: int) -> list[float]:
    """Run diagnose ``runs`` times as a new process each and return the wall times in seconds."""
    command = [sys.executable, "-m", "mtlslab", "diagnose", *arguments]
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if completed.returncode != 0:
            raise SystemExit(f"diagnose failed on the healthy setup:\n{completed.stdout}{completed.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="number of diagnose processes to time (default: 15)")
    parser.add_argument("--roots", type=int, default=150, help="trust anchors in the bundle (default: 150)")
    parser.add_argument("--report", type=Path, help="also write the measurements to this JSON file")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mtlslab-bench-") as directory:
        diagnose_arguments = build_setup(Path(directory), arguments.roots)
        seconds = time_runs(diagnose_arguments, arguments.runs)

    median = statistics.median(seconds)
    print(f"mtlslab diagnose, leaf + chain + {arguments.roots} roots: median {median * 1000:.0f} ms, "
          f"min {min(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms over {arguments.runs} runs "
          f"(target {TARGET_SECONDS * 1000:.0f} ms)")

    if arguments.report:
        measurements = {
            "roots": arguments.roots,
            "runs": arguments.runs,
            "median_seconds": median,
            "min_seconds": min(seconds),
            "max_seconds": max(seconds),
            "target_seconds": TARGET_SECONDS,
        }
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        arguments.report.write_text(json.dumps(measurements, indent=2) + "\n")


if __name__ == "__main__":
    main()
