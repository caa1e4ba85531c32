"""A monitoring probe: connect to a TLS server and read the certificate it presents.

A certificate file on disk is what a server would present after its next reload, and
the handshake shows what it presents now. A server that never reloads its files keeps
presenting the certificate it loaded at start-up, so an expiry alert must watch the
served certificate, as ``openssl s_client`` shows it, not the file or the Secret.
"""

from __future__ import annotations

import socket
import ssl

from cryptography import x509

from mtlslab.errors import InputError
from mtlslab.pki.authority import Credential
from mtlslab.pki.contexts import load_credential

LOOPBACK = "127.0.0.1"


def fetch_served_certificate(
    port: int,
    credential: Credential | None = None,
    *,
    server_name: str = "localhost",
    timeout: float = 5.0,
) -> x509.Certificate:
    """Return the leaf certificate that the TLS server on 127.0.0.1:``port`` presents.

    The probe does not verify the server's certificate, so that it can report one that
    has expired or chains to an unknown CA. ``credential`` is the client certificate to
    present to an mTLS server. A TLS 1.3 client completes its handshake before the
    server checks the client certificate (RFC 8446 section 2), so the probe reads the
    certificate even from a server that then rejects ``credential``. A TLS 1.2 server
    aborts before the client's handshake completes, so there ``credential`` must be one
    the server accepts. Raises InputError when no handshake completes.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if credential is not None:
        load_credential(context, credential)
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except OSError as error:
        reason = getattr(error, "reason", None) or error.strerror or type(error).__name__
        raise InputError(
            f"no TLS handshake with {LOOPBACK}:{port} ({reason}): check that a TLS server listens on that port"
        ) from None
    return x509.load_der_x509_certificate(der)
