"""A TLS server that serves certificate files from disk, with or without reloading them.

Real servers differ here: some watch their certificate files and reload on change,
others read them once at start-up and serve the same certificate until restarted,
even after the files were renewed and the loaded certificate expired.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from mtlslab.handshake import drain_before_close
from mtlslab.pki.files import load_certificates

LOOPBACK = "127.0.0.1"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerFiles:
    """The files a server reads: its chain (leaf first), its key, and the CAs it trusts for clients."""

    chain: Path
    key: Path
    trust: Path

    def fingerprint(self) -> bytes:
        """Return a digest of the three files' contents, which changes whenever one of them does.

        Contents rather than modification times, because two writes within the file
        system's timestamp granularity would leave the time unchanged.
        """
        digest = hashlib.sha256()
        for path in (self.chain, self.key, self.trust):
            digest.update(path.read_bytes())
        return digest.digest()


class FileServer:
    """An mTLS server on 127.0.0.1 that answers each connection with one reply.

    With ``reload`` it checks the files before every connection and loads them again
    when they changed; without it, it keeps what it loaded at start-up.
    """

    def __init__(self, files: ServerFiles, *, reload: bool = True, crl_check: bool = False):
        self.files = files
        self.reload = reload
        self.crl_check = crl_check
        self.reloads = 0
        self._loaded_from = files.fingerprint()
        self._context = self._load()
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopping = False

    @property
    def served_certificate(self) -> x509.Certificate:
        """The leaf certificate the server presents now, which may differ from the file on disk."""
        return self._served

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            socket.create_connection((LOOPBACK, self.port), timeout=1).close()
        self._thread.join(5)
        self._listener.close()

    def _load(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.files.chain, self.files.key)
        context.load_verify_locations(cafile=self.files.trust)
        context.verify_mode = ssl.CERT_REQUIRED
        if self.crl_check:
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        self._served = load_certificates(self.files.chain)[0]
        return context

    def _maybe_reload(self) -> None:
        if not self.reload:
            return
        try:
            current = self.files.fingerprint()
            if current == self._loaded_from:
                return
            self._context = self._load()
        except (OSError, ssl.SSLError, ValueError) as error:
            # A half-written rotation keeps the old context, as careful servers do.
            log.warning("reload of %s failed, serving the previous certificate: %s", self.files.chain, error)
            return
        self._loaded_from = current
        self.reloads += 1
        log.info("reloaded %s", self.files.chain)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping:
                connection.close()
                return
            self._maybe_reload()
            self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        tls = self._context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        with tls:
            try:
                tls.do_handshake()
            except OSError as error:
                log.info("handshake on port %d failed: %s", self.port, error)
                drain_before_close(tls)
                return
            with contextlib.suppress(OSError):
                if tls.recv(1024):
                    tls.sendall(b"ok")
