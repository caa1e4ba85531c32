"""The ``mtlslab capture`` and ``mtlslab stages`` subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from mtlslab.capture import capture
from mtlslab.pki import load_certificates
from mtlslab.report import analyze_capture


def add_capture_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``capture`` and ``stages`` to the ``mtlslab`` subcommands."""
    recorder = commands.add_parser(
        "capture",
        help="record one mTLS handshake and write handshake.pcap, keylog.txt and stages.json",
        description=(
            "Issue a fresh PKI, run one mTLS handshake with a request and a reply, and write handshake.pcap "
            "(opens in Wireshark), keylog.txt (NSS key log that decrypts it) and stages.json (the six stages) "
            "to DIR. By default the handshake runs in memory and needs no privileges."
        ),
    )
    recorder.add_argument(
        "--out", metavar="DIR", required=True, help="directory to write the three files to; created when missing"
    )
    recorder.add_argument(
        "--tls", choices=("1.2", "1.3"), default="1.3", help="TLS version that client and server use (default: 1.3)"
    )
    recorder.add_argument(
        "--live",
        action="store_true",
        help=(
            "sniff the loopback interface during a real socket handshake instead of recording in memory; "
            "needs root or CAP_NET_RAW, and falls back to the in-memory recorder without them"
        ),
    )
    recorder.set_defaults(handler=_run_capture)

    stages = commands.add_parser(
        "stages",
        help="dissect the TLS handshakes in a pcap or pcapng file into the six stages",
        description=(
            "Dissect every TLS connection in PCAP, including captures that tcpdump, tshark or Wireshark made, "
            "and show each stage with its messages, directions, record numbers and alerts. TLS 1.3 hides "
            "stages 2 to 6 unless --keylog gives the secrets."
        ),
    )
    stages.add_argument("pcap", metavar="PCAP", help="the capture file (pcap or pcapng)")
    stages.add_argument(
        "--keylog",
        metavar="FILE",
        help="NSS key log (written by SSLKEYLOGFILE or openssl -keylogfile) that decrypts the connections",
    )
    stages.add_argument(
        "--ca",
        metavar="FILE",
        help=(
            "PEM or DER file of CA certificates that both peers trust; re-verifies each chain against them "
            "(without it the kit checks only that each certificate is issued by the next)"
        ),
    )
    stages.add_argument("--json", action="store_true", help="print JSON instead of text")
    stages.set_defaults(handler=_run_stages)


def _run_capture(arguments: argparse.Namespace) -> int:
    result = capture(arguments.out, tls_version=arguments.tls, live=arguments.live)
    for note in result.transcript.notes:
        print(f"mtlslab: {note}", file=sys.stderr)
    print(result.report)
    print()
    for path in result.paths.values():
        print(f"wrote {path}")
    return 0


def _run_stages(arguments: argparse.Namespace) -> int:
    anchors = load_certificates(arguments.ca) if arguments.ca else None
    report = analyze_capture(arguments.pcap, arguments.keylog, anchors=anchors)
    if arguments.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report)
    return 0
