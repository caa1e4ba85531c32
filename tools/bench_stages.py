"""Measure how fast the kit records and dissects TLS handshakes.

Builds a capture of N in-memory TLS 1.3 mTLS handshakes (one pcap and one key log, as
tcpdump and SSLKEYLOGFILE would produce them), then times ``mtlslab stages`` on it in
this process, after imports. Also times recording and dissecting a single handshake.

    python tools/bench_stages.py [--handshakes 1000] [--tls 1.3] [--out DIR]
"""

from __future__ import annotations

import argparse
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
        print(f"{len(report.connections) / elapsed:.0f} handshakes per second")


if __name__ == "__main__":
    main()
