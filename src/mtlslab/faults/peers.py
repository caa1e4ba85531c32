"""Loopback peers for the fault scenarios that two ordinary Python ``ssl`` peers cannot show.

:func:`mtlslab.handshake.run_handshake` covers every certificate fault, and the
runners here cover the rest. One client checks the server's SPIFFE ID after the
handshake. A plaintext client connects to a TLS port, and a TLS client to a plaintext
port. ``openssl s_client`` plays a client whose signature_algorithms list the test chooses.
Every runner returns a :class:`~mtlslab.handshake.HandshakeResult`, like
``run_handshake``.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.alerts import alert_from_code, alert_from_ssl_reason
from mtlslab.handshake import DEFAULT_TIMEOUT, LOOPBACK, REQUEST, HandshakeResult, PeerReport
from mtlslab.pki.authority import Credential
from mtlslab.pki.files import write_credential, write_file
from mtlslab.pki.summary import subject_alt_names

HTTP_REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
# A plaintext line of a protocol other than HTTP, as a Redis or SMTP client would send.
OTHER_PLAINTEXT = b"PING\r\n"
HTTP_RESPONSE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

# str(ssl.SSLError) ends with the C source line that raised it; reports drop it.
_SOURCE_LOCATION = re.compile(r"\s*\(_ssl\.c:\d+\)$")
# openssl s_client prints errors as "<thread id>:error:<code>:<library>:<function>:<reason>:<file>:<line>:<data>".
_OPENSSL_ERROR_LINE = re.compile(r"^[0-9A-F]+:(error:.*)$", re.MULTILINE)
_OPENSSL_ALERT_NUMBER = re.compile(r"SSL alert number (\d+)")


class IdentityMismatch(Exception):
    """The peer's certificate verified, but it does not carry the identity the caller expected."""


def record_error(report: PeerReport, phase: str, error: BaseException) -> None:
    """Store ``error`` in ``report`` as the failure of ``phase``, with the alert its reason names."""
    report.error_phase = phase
    report.error_type = type(error).__name__
    report.error = _SOURCE_LOCATION.sub("", str(error)) or report.error_type
    report.alert_received = alert_from_ssl_reason(getattr(error, "reason", None))


def record_session(report: PeerReport, tls: ssl.SSLSocket) -> None:
    """Store the negotiated version, cipher suite and peer certificate of ``tls`` in ``report``."""
    report.handshake_completed = True
    report.tls_version = tls.version()
    report.cipher = tls.cipher()[0]
    der = tls.getpeercert(binary_form=True)
    report.peer_certificate = x509.load_der_x509_certificate(der) if der else None


def run_with_identity_check(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    expected_server_id: str,
    *,
    server_hostname: str = "localhost",
    timeout: float = DEFAULT_TIMEOUT,
) -> HandshakeResult:
    """Run a handshake in which the client also requires ``expected_server_id`` among the server's URI SANs.

    Python's ``ssl`` and OpenSSL match DNS names and IP addresses only, so the client
    checks the SPIFFE ID itself once the handshake is complete and closes the
    connection before sending anything when it is missing. Envoy makes the same check
    inside its certificate verification callback, so a mesh client stops at the same
    stage but sends an alert first.
    """
    def check_identity(tls: ssl.SSLSocket, report: PeerReport) -> None:
        presented = [name[4:] for name in subject_alt_names(report.peer_certificate) if name.startswith("URI:")]
        if expected_server_id in presented:
            _exchange(tls, report)
            return
        found = ", ".join(presented) or "no URI SAN"
        record_error(
            report,
            "identity check",
            IdentityMismatch(f"SPIFFE ID mismatch: expected {expected_server_id}, the server presented {found}"),
        )

    result = HandshakeResult()
    serve = (_serve_tls_once, server_context)
    return _run_tls_client(result, serve, client_context, server_hostname, timeout, after_handshake=check_identity)


def run_plaintext_client(
    server_context: ssl.SSLContext, *, payload: bytes = HTTP_REQUEST, timeout: float = DEFAULT_TIMEOUT
) -> HandshakeResult:
    """Send ``payload`` in plaintext to a TLS server on loopback, as a caller without a sidecar would."""
    result = HandshakeResult()
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(timeout)
        server = threading.Thread(
            target=_serve_tls_once, args=(listener, server_context, result.server, timeout), daemon=True
        )
        server.start()
        report = result.client
        try:
            with socket.create_connection(listener.getsockname(), timeout=timeout) as connection:
                connection.sendall(payload)
                report.received = connection.recv(4096)
                if not report.received:
                    record_error(report, "exchange", ConnectionError("the server closed the connection without a reply"))
        except OSError as error:
            record_error(report, "exchange", error)
        server.join(timeout)
    return result


def run_tls_client_against_plaintext(
    client_context: ssl.SSLContext,
    *,
    reply: bytes = HTTP_RESPONSE,
    server_hostname: str = "localhost",
    timeout: float = DEFAULT_TIMEOUT,
) -> HandshakeResult:
    """Start a TLS handshake against a plaintext server on loopback that replies with ``reply``."""
    result = HandshakeResult()
    serve = (_serve_plaintext_once, reply)
    return _run_tls_client(result, serve, client_context, server_hostname, timeout)


def _run_tls_client(result, serve, client_context, server_hostname, timeout, after_handshake=None) -> HandshakeResult:
    """Serve one connection on loopback with ``serve`` (a function and its first argument) and run a TLS client.

    ``after_handshake`` runs with the client's socket and report once the client's
    handshake has completed.
    """
    serve_once, argument = serve
    with socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(timeout)
        server = threading.Thread(target=serve_once, args=(listener, argument, result.server, timeout), daemon=True)
        server.start()
        report = result.client
        try:
            raw = socket.create_connection(listener.getsockname(), timeout=timeout)
        except OSError as error:
            record_error(report, "connect", error)
            return result
        with client_context.wrap_socket(raw, server_hostname=server_hostname, do_handshake_on_connect=False) as tls:
            try:
                tls.do_handshake()
            except (ssl.SSLError, OSError) as error:
                record_error(report, "handshake", error)
            else:
                record_session(report, tls)
                if after_handshake is not None:
                    after_handshake(tls, report)
        server.join(timeout)
    return result


def openssl_available() -> bool:
    """True when the ``openssl`` command is on PATH."""
    return shutil.which("openssl") is not None


def run_openssl_client(
    server_context: ssl.SSLContext,
    trust: x509.Certificate,
    credential: Credential | None,
    *,
    signature_algorithms: str,
    tls_version: str = "1.3",
    server_name: str = "localhost",
    timeout: float = DEFAULT_TIMEOUT,
) -> HandshakeResult:
    """Connect ``openssl s_client -sigalgs SIGNATURE_ALGORITHMS`` to a Python TLS server on loopback.

    Python's ``ssl`` module has no call that sets the signature_algorithms extension
    (OpenSSL's SSL_CTX_set1_sigalgs_list), so the ``openssl`` command plays the client
    whose list the scenario restricts. The client's report contains the last error line
    that s_client printed.
    """
    result = HandshakeResult()
    with tempfile.TemporaryDirectory(prefix="mtlslab-") as directory, socket.create_server((LOOPBACK, 0)) as listener:
        listener.settimeout(timeout)
        anchor = write_file(Path(directory) / "trust.pem", trust.public_bytes(serialization.Encoding.PEM))
        command = [
            "openssl", "s_client",
            "-connect", f"{LOOPBACK}:{listener.getsockname()[1]}",
            "-servername", server_name,
            f"-tls{tls_version.replace('.', '_')}",
            "-sigalgs", signature_algorithms,
            "-CAfile", str(anchor),
            "-verify_return_error",
        ]
        if credential is not None:
            paths = write_credential(credential, directory, "client")
            command += ["-cert", str(paths["cert"]), "-cert_chain", str(paths["chain"]), "-key", str(paths["key"])]

        server = threading.Thread(
            target=_serve_tls_once, args=(listener, server_context, result.server, timeout), daemon=True
        )
        server.start()
        # s_client sends what it reads from standard input, then closes at end of input.
        completed = subprocess.run(command, input=REQUEST, capture_output=True, timeout=timeout * 2)
        server.join(timeout)
    _record_openssl_client(result.client, completed)
    return result


def _record_openssl_client(report: PeerReport, completed: subprocess.CompletedProcess) -> None:
    output = completed.stdout.decode(errors="replace")
    errors = _OPENSSL_ERROR_LINE.findall(completed.stderr.decode(errors="replace"))
    version = re.search(r"^New, (TLSv[0-9.]+), Cipher is (\S+)", output, re.MULTILINE)
    if version:
        report.handshake_completed = True
        report.tls_version, report.cipher = version.groups()
    if completed.returncode == 0 and not errors:
        return
    report.error_phase = "handshake" if not report.handshake_completed else "exchange"
    report.error_type = "openssl s_client"
    report.error = errors[-1] if errors else f"openssl s_client exited with status {completed.returncode}"
    number = _OPENSSL_ALERT_NUMBER.search(report.error)
    if number:
        report.alert_received = alert_from_code(int(number.group(1)))


def _serve_tls_once(listener: socket.socket, context: ssl.SSLContext, report: PeerReport, timeout: float) -> None:
    try:
        connection, _ = listener.accept()
    except OSError as error:
        record_error(report, "accept", error)
        return
    connection.settimeout(timeout)
    with context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False) as tls:
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            record_error(report, "handshake", error)
            return
        record_session(report, tls)
        try:
            report.received = tls.recv(1024)
            if report.received:
                tls.sendall(b"pong: " + report.received)
            else:
                record_error(report, "exchange", ConnectionError("the client closed the connection without a request"))
        except (ssl.SSLError, OSError) as error:
            record_error(report, "exchange", error)


def _serve_plaintext_once(listener: socket.socket, reply: bytes, report: PeerReport, timeout: float) -> None:
    try:
        connection, _ = listener.accept()
    except OSError as error:
        record_error(report, "accept", error)
        return
    with connection:
        connection.settimeout(timeout)
        try:
            report.received = connection.recv(4096)
            connection.sendall(reply)
        except OSError as error:
            record_error(report, "exchange", error)


def _exchange(tls: ssl.SSLSocket, report: PeerReport) -> None:
    try:
        tls.sendall(REQUEST)
        report.received = tls.recv(1024)
    except (ssl.SSLError, OSError) as error:
        record_error(report, "exchange", error)
