"""The ``mtlslab diagnose`` and ``mtlslab explain`` subcommands: argument parsing and output."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm

from mtlslab.diagnose import inputs
from mtlslab.diagnose.checks import Report, describe, diagnose_setup
from mtlslab.diagnose.findings import ERROR, WARNING
from mtlslab.errors import InputError
from mtlslab.pki.spiffe import validate_spiffe_id

EXIT_OK, EXIT_ERROR_FOUND, EXIT_INPUT = 0, 1, 2

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "": "days"}


def add_diagnose_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``diagnose`` and ``explain`` on the ``mtlslab`` subcommand parser."""
    diagnose = commands.add_parser(
        "diagnose",
        help="explain what is wrong with a certificate setup, from files alone",
        description=(
            "Check a certificate or chain, its key, the peer's trust bundle and CRLs the way a TLS peer would, "
            "and print each problem with its evidence, fix and runbook. Exit status: 0 no error found, "
            "1 at least one error finding, 2 unusable input."
        ),
    )
    diagnose.add_argument("--cert", metavar="FILE", help="the leaf certificate, or the leaf followed by its chain (PEM or DER)")
    diagnose.add_argument("--key", metavar="FILE", help="the private key that goes with --cert (PEM or DER, unencrypted)")
    diagnose.add_argument(
        "--ca", metavar="FILE", action="append", help="the trust bundle of the peer that verifies --cert; repeat for several files"
    )
    diagnose.add_argument(
        "--crl", metavar="FILE", action="append", help="CRLs the verifier checks against (turns CRL checking on); repeatable"
    )
    diagnose.add_argument(
        "--as", dest="role", choices=inputs.ROLES, help="the role of --cert: server (needs serverAuth) or client (needs clientAuth)"
    )
    diagnose.add_argument("--name", help="the DNS name, IP address or SPIFFE ID (spiffe://...) that the peer expects")
    diagnose.add_argument(
        "--at", metavar="TIME", type=parse_time, help="evaluate at this time: ISO 8601 (2030-01-01T00:00Z) or relative to now (+30d; write --at=-2h for the past)"
    )
    diagnose.add_argument(
        "--margin",
        type=parse_duration,
        metavar="DURATION",
        help="warn about certificates that expire within DURATION (30d, 12h, 90m; a bare number is days); "
        "default: 30 days, or a third of the certificate's lifetime when shorter",
    )
    diagnose.add_argument(
        "--secret", metavar="FILE", help="a Kubernetes Secret (kubectl get secret NAME -o yaml or -o json) with tls.crt, tls.key, ca.crt"
    )
    diagnose.add_argument(
        "--istio-cacerts", metavar="DIR", help="Istio plug-in CA folder: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem"
    )
    diagnose.add_argument(
        "--served", metavar="FILE", help="the certificate the running process presents (from openssl s_client -showcerts), to compare with --cert"
    )
    diagnose.add_argument("--json", action="store_true", help='print {"findings": [...]} as JSON instead of text')
    diagnose.set_defaults(handler=run_diagnose)

    explain = commands.add_parser(
        "explain",
        help="map a TLS error message to its likely causes and runbooks",
        description=(
            "Recognize error messages of OpenSSL and Python, Go, Envoy and BoringSSL, and Java, and print the "
            "likely causes as diagnose finding ids with their runbooks. Exit status: 0 recognized, 1 not recognized."
        ),
    )
    explain.add_argument("text", metavar="ERROR_TEXT", nargs="+", help="the error message, quoted; several words are joined")
    explain.add_argument("--json", action="store_true", help="print the matches and causes as JSON")
    explain.set_defaults(handler=run_explain)


def run_diagnose(arguments: argparse.Namespace) -> int:
    """Read the inputs, run every check and print the findings; return the exit status."""
    setup = build_setup(arguments)
    try:
        report = diagnose_setup(setup)
    except (ValueError, UnsupportedAlgorithm) as error:
        # cryptography parses extensions and keys lazily, so a malformed one surfaces here.
        raise InputError(f"a certificate could not be analysed ({error}): check that the files hold valid X.509 certificates") from None
    if arguments.json:
        document = {"findings": [finding.to_dict() for finding in report.findings]}
        if report.notes:
            document["notes"] = report.notes
        print(json.dumps(document, indent=2))
    else:
        print(format_report(report, setup))
    return EXIT_ERROR_FOUND if report.has_errors else EXIT_OK


def run_explain(arguments: argparse.Namespace) -> int:
    """Match the error text and print its likely causes; return 0 when something matched."""
    from mtlslab.diagnose.explain import explain, format_explanation

    text = " ".join(arguments.text)
    if not text.strip():
        raise InputError("the error text is empty: pass the message in quotes, e.g. mtlslab explain \"certificate has expired\"")
    explanation = explain(text)
    if arguments.json:
        print(json.dumps(explanation.to_dict(), indent=2))
    else:
        print(format_explanation(explanation))
    return EXIT_OK if explanation.matches else EXIT_ERROR_FOUND


def build_setup(arguments: argparse.Namespace) -> inputs.Setup:
    """Turn the command-line options into a :class:`~mtlslab.diagnose.inputs.Setup`, reading every file."""
    setup = inputs.Setup(role=arguments.role, margin=arguments.margin)
    if arguments.at is not None:
        setup.at = arguments.at
    if arguments.name:
        setup.name = validate_spiffe_id(arguments.name) if arguments.name.startswith("spiffe://") else arguments.name

    if arguments.secret:
        _read_secret(arguments.secret, setup)
    if arguments.istio_cacerts:
        _read_istio(arguments.istio_cacerts, setup)

    if arguments.cert:
        setup.presented = inputs.read_certificates(arguments.cert)
    if arguments.key:
        setup.key = inputs.read_private_key(arguments.key)
        setup.key_source = arguments.key
    if arguments.ca:
        setup.anchors = [entry for path in arguments.ca for entry in inputs.read_certificates(path)]
    if arguments.crl:
        setup.crls = [item for path in arguments.crl for item in inputs.read_crls(path)]
    if arguments.served:
        setup.served = inputs.read_certificates(arguments.served)

    if setup.key is not None and not setup.presented:
        raise InputError("--key needs the certificate it belongs to: add --cert FILE")
    if not (setup.presented or setup.served or setup.anchors or setup.role == "client"):
        raise InputError("nothing to diagnose: pass --cert FILE, --secret FILE or --istio-cacerts DIR")
    return setup


def _read_secret(path: str, setup: inputs.Setup) -> None:
    name, values = inputs.read_secret(path)
    label = f"Secret {name}"
    if all(key in values for key in inputs.ISTIO_FILES):
        _apply_istio(values, label, setup)
        return
    certificate = values.get("tls.crt", b"")
    if certificate.strip():
        setup.presented = inputs.certificate_entries(certificate, f"tls.crt of {label}")
    elif setup.role != "client":
        raise InputError(f"{label} in {path} has no tls.crt: pass a kubernetes.io/tls Secret, or --as client for a client without one")
    key = values.get("tls.key", b"")
    if key.strip():
        setup.key = inputs.parse_private_key(key, f"tls.key of {label}")
        setup.key_source = f"tls.key of {label}"
    trust = values.get("ca.crt", b"")
    if trust.strip():
        setup.anchors = inputs.certificate_entries(trust, f"ca.crt of {label}")
    setup.secret = label
    setup.secret_missing = tuple(name for name, value in (("tls.key", key), ("ca.crt", trust)) if not value.strip())


def _read_istio(directory: str, setup: inputs.Setup) -> None:
    _apply_istio(inputs.read_istio_cacerts(directory), str(Path(directory)), setup)


def _apply_istio(files: dict[str, bytes], label: str, setup: inputs.Setup) -> None:
    """Diagnose an Istio plug-in CA: ca-cert.pem is the CA that signs workloads, root-cert.pem the anchor."""
    ca = inputs.certificate_entries(files["ca-cert.pem"], f"ca-cert.pem of {label}")
    chain = inputs.certificate_entries(files["cert-chain.pem"], f"cert-chain.pem of {label}")
    # cert-chain.pem starts with ca-cert.pem itself; the rest links it to the root.
    above = [entry for entry in chain if entry.certificate != ca[0].certificate]
    setup.presented = [ca[0], *above]
    if chain[0].certificate != ca[0].certificate:
        setup.chain_file_first = chain[0]
    setup.key = inputs.parse_private_key(files["ca-key.pem"], f"ca-key.pem of {label}")
    setup.key_source = f"ca-key.pem of {label}"
    setup.anchors = inputs.certificate_entries(files["root-cert.pem"], f"root-cert.pem of {label}")
    setup.role = inputs.CA_ROLE


def format_report(report: Report, setup: inputs.Setup) -> str:
    """Format the report as text: the path, then each finding with its evidence, fix and runbook."""
    lines = []
    if report.path is not None:
        names = [describe(entry.certificate) for entry in report.path.entries]
        ending = "trusted" if report.path.trusted else "not trusted"
        lines.append(f"Chain: {' -> '.join(names)} ({ending})")
    if setup.at is not None and abs((setup.at - dt.datetime.now(dt.timezone.utc)).total_seconds()) > 60:
        lines.append(f"Evaluated at {setup.at.isoformat()}")
    lines += [f"Note: {note}" for note in report.notes]
    if lines:
        lines.append("")

    for finding in report.findings:
        lines.append(f"{finding.severity.upper()} {finding.id}: {finding.message}")
        details = ", ".join(f"{key}={value}" for key, value in finding.evidence.items())
        lines.append(f"  evidence: {details}")
        lines.append(f"  fix: {finding.fix}")
        lines.append(f"  runbook: {finding.runbook}")
        lines.append("")

    errors = sum(finding.severity == ERROR for finding in report.findings)
    warnings = sum(finding.severity == WARNING for finding in report.findings)
    if not report.findings:
        lines.append("No problems found." + (" Some checks did not run: read the notes above." if report.notes else ""))
    else:
        lines.append(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
    return "\n".join(lines)


def parse_time(text: str) -> dt.datetime:
    """Parse an ISO 8601 time (UTC when no zone is given) or a time relative to now such as +30d or -2h."""
    stripped = text.strip()
    if stripped[:1] in "+-" and _DURATION.match(stripped[1:]):
        delta = parse_duration(stripped[1:])
        now = dt.datetime.now(dt.timezone.utc)
        return now + delta if stripped[0] == "+" else now - delta
    try:
        value = dt.datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}: use ISO 8601 (2030-01-01T00:00Z) or an offset from now (+30d, -2h)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def parse_duration(text: str) -> dt.timedelta:
    """Parse a duration such as 30d, 12h, 90m, 45s or 2w; a bare number is days."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use a number with s, m, h, d or w, e.g. 30d")
    amount, unit = match.groups()
    return dt.timedelta(**{_UNITS[unit]: float(amount)})

