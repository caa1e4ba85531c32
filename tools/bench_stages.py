"""Measure how fast the kit records and dissects TLS handshakes.

Builds a capture of N in-memory TLS 1.3 mTLS handshakes (one pcap and one key log, as
tcpdump and SSLKEYLOGFILE would produce them), then times ``mtlslab stages`` on it in
this process, after imports. Also times recording and dissecting a single handshake.

    python tools/bench_stages.py [--handshakes 1000] [--tls 1.3] [--out DIR] [--report FILE]

Targets: one handshake recorded and dissected in under 1 s after imports, and at least
100 handshakes per second through ``mtlslab stages``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtlslab.capture import demo_contexts
from mtlslab.pcap import write_capture
from mtlslab.pki.files import write_file
from mtlslab.record import record_handshake
from mtlslab.report import analyze_capture, analyze_transcript

FIRST_CLIENT_PORT = 20000


def build_capture(directory: Path, count: int, tls_version: str) -> tuple[Path, Path]:
    """Record ``count`` handshakes and write them to one pcap with one key log; return both paths."""
    server, client = demo_contexts(tls_version)
    frames = []
    keylog = []
    for index in range(count):
        transcript = record_handshake(server, client, client_port=FIRST_CLIENT_PORT + index)
        frames.extend(transcript.pcap_frames())
        keylog.append(transcript.keylog)
    frames.sort(key=lambda frame: frame[0])
    pcap = write_capture(directory / "handshakes.pcap", frames)
    keylog_path = write_file(directory / "keylog.txt", "".join(keylog).encode("ascii"), private=True)
    return pcap, keylog_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=1000, help="number of handshakes in the capture (default: 1000)")
    parser.add_argument("--tls", choices=("1.2", "1.3"), default="1.3", help="TLS version (default: 1.3)")
    parser.add_argument("--out", type=Path, help="directory to keep the capture in (default: a temporary one)")
    parser.add_argument("--report", type=Path, help="also write the measurements to this JSON file")
    arguments = parser.parse_args()

    server, client = demo_contexts(arguments.tls)
    start = time.perf_counter()
    report = analyze_transcript(record_handshake(server, client))
    single = time.perf_counter() - start
    assert report.connections[0].handshake == "complete", report.connections[0].outcome
    print(f"record and dissect one handshake: {single * 1000:.0f} ms")

    with tempfile.TemporaryDirectory(prefix="mtlslab-bench-") as temporary:
        directory = arguments.out or Path(temporary)
        start = time.perf_counter()
        pcap, keylog = build_capture(directory, arguments.handshakes, arguments.tls)
        print(f"built {pcap} with {arguments.handshakes} handshakes in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        report = analyze_capture(pcap, keylog)
        elapsed = time.perf_counter() - start
        complete = sum(1 for connection in report.connections if connection.handshake == "complete")
        print(f"mtlslab stages: {len(report.connections)} connections ({complete} complete) in {elapsed:.2f} s")
        rate = len(report.connections) / elapsed
        print(f"{rate:.0f} handshakes per second")

        command = [sys.executable, "-m", "mtlslab", "stages", str(pcap), "--keylog", str(keylog), "--json"]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        cli_rate = len(report.connections) / (time.perf_counter() - start)
        print(f"through the command line, start-up and JSON output included: {cli_rate:.0f} handshakes per second")

    if arguments.report:
        measurements = {
            "tls_version": arguments.tls,
            "handshakes": arguments.handshakes,
            "record_and_dissect_one_seconds": single,
            "record_and_dissect_one_target_seconds": 1.0,
            "stages_handshakes_per_second": rate,
            "stages_cli_handshakes_per_second": cli_rate,
            "stages_target_handshakes_per_second": 100,
        }
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        arguments.report.write_text(json.dumps(measurements, indent=2) + "\n")


if __name__ == "__main__":
    main()
