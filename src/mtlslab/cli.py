"""The ``mtlslab`` command."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys

from mtlslab import __version__
from mtlslab.capture_cli import add_capture_commands
from mtlslab.diagnose.command import add_diagnose_commands, parse_time
from mtlslab.errors import InputError
from mtlslab.pki import load_certificates, summarize
from mtlslab.pki.demo import write_demo_pki
from mtlslab.pki.keys import DEFAULT_KEY_TYPE, KEY_TYPES


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 success, 2 unusable input)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments)
    except InputError as error:
        print(f"mtlslab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mtlslab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (for example `mtlslab explain ... | head`).
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mtlslab",
        description="Learn, teach and troubleshoot mutual TLS with real certificates and handshakes.",
    )
    parser.add_argument("--version", action="version", version=f"mtlslab {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    pki = commands.add_parser("pki", help="create certificate authorities and certificates")
    pki_commands = pki.add_subparsers(title="pki commands", metavar="COMMAND", required=True)
    demo = pki_commands.add_parser(
        "demo",
        help="write a demo PKI (root, intermediate, server and client) to a directory",
        description=(
            "Write root-ca.pem, intermediate-ca.pem, server.pem, server-key.pem, server-chain.pem, "
            "client.pem, client-key.pem and client-chain.pem to DIR. Each chain file holds the leaf "
            "followed by the intermediate. Private keys are written with mode 0600."
        ),
    )
    demo.add_argument("directory", metavar="DIR", help="directory to write the files to; created when missing")
    demo.add_argument(
        "--key-type",
        choices=KEY_TYPES,
        default=DEFAULT_KEY_TYPE,
        help=f"key algorithm of every certificate (default: {DEFAULT_KEY_TYPE})",
    )
    demo.add_argument(
        "--days", type=_positive_int, default=90, help="lifetime of the server and client certificates, in days (default: 90); the CAs are made to outlive them"
    )
    demo.add_argument("--force", action="store_true", help="overwrite demo files that already exist in DIR")
    demo.set_defaults(handler=_run_pki_demo)

    inspect = commands.add_parser(
        "inspect",
        help="summarize the certificates in a PEM or DER file",
        description="Print subject, issuer, validity, SANs, key, usages, CA flag and fingerprint of each certificate.",
    )
    inspect.add_argument("file", metavar="FILE", help="a PEM or DER certificate, or a PEM bundle of several")
    inspect.add_argument(
        "--at",
        metavar="TIME",
        type=parse_time,
        help="judge validity at this time instead of now: ISO 8601 (2030-01-01T00:00Z) or relative to now "
        "(+30d; write --at=-2h for the past)",
    )
    inspect.add_argument("--json", action="store_true", help="print a JSON list of summaries instead of text")
    inspect.set_defaults(handler=_run_inspect)

    add_capture_commands(commands)
    add_diagnose_commands(commands)
    return parser


def _run_pki_demo(arguments: argparse.Namespace) -> int:
    paths = write_demo_pki(
        arguments.directory,
        key_type=arguments.key_type,
        leaf_lifetime=dt.timedelta(days=arguments.days),
        overwrite=arguments.force,
    )
    for path in paths.values():
        print(path)
    return 0


def _run_inspect(arguments: argparse.Namespace) -> int:
    certificates = load_certificates(arguments.file)
    summaries = [summarize(certificate, at=arguments.at) for certificate in certificates]
    if arguments.json:
        print(json.dumps([dataclasses.asdict(summary) for summary in summaries], indent=2, default=_json_value))
        return 0
    for number, summary in enumerate(summaries, start=1):
        if len(summaries) > 1:
            print(f"Certificate {number} of {len(summaries)}")
        print(summary)
        if number < len(summaries):
            print()
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: give a whole number of days") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: give at least 1 day")
    return value


def _json_value(value: object) -> str:
    """Encode what json cannot: datetimes as ISO 8601 (with "T", like the text output), anything else with str()."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
