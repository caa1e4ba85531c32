"""NSS key log files: the secrets that SSLKEYLOGFILE, ``-keylogfile`` and Python's ``keylog_filename`` write.

Each line is ``LABEL CLIENT_RANDOM SECRET`` in hex. TLS 1.2 connections log the master
secret under ``CLIENT_RANDOM``; TLS 1.3 connections log one traffic secret per label
(``CLIENT_HANDSHAKE_TRAFFIC_SECRET``, ``SERVER_TRAFFIC_SECRET_0`` and so on), as described
in the IETF draft "The SSLKEYLOGFILE Format for TLS".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mtlslab.errors import InputError

LABELS = (
    "CLIENT_RANDOM",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EARLY_EXPORTER_SECRET",
    "EXPORTER_SECRET",
)


@dataclass
class KeyLog:
    """Secrets by client random (32 bytes), then by label."""

    secrets: dict[bytes, dict[str, bytes]] = field(default_factory=dict)
    source: str = "key log"

    def __len__(self) -> int:
        return len(self.secrets)

    def lookup(self, client_random: bytes) -> dict[str, bytes]:
        """Return the secrets logged for ``client_random``; empty when the key log has none."""
        return self.secrets.get(client_random, {})

    @classmethod
    def parse(cls, text: str, source: str = "key log") -> KeyLog:
        """Parse key log text; raise InputError when it contains lines but none in the NSS format."""
        keylog = cls(source=source)
        unreadable = 0
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3 or parts[0] not in LABELS:
                unreadable += 1
                continue
            try:
                client_random = bytes.fromhex(parts[1])
                secret = bytes.fromhex(parts[2])
            except ValueError:
                unreadable += 1
                continue
            if len(client_random) != 32:
                unreadable += 1
                continue
            keylog.secrets.setdefault(client_random, {})[parts[0]] = secret
        if unreadable and not keylog.secrets:
            raise InputError(
                f"{source} is not an NSS key log: no line has the form 'LABEL CLIENT_RANDOM SECRET'; "
                "pass the file that SSLKEYLOGFILE or openssl -keylogfile wrote"
            )
        return keylog


def load_keylog(path: str | os.PathLike) -> KeyLog:
    """Read and parse the key log file at ``path``."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such key log file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory: pass the key log file inside it") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the key log readable") from None
    if not text.strip():
        raise InputError(f"{path} is an empty key log: the TLS client wrote no secrets to it")
    return KeyLog.parse(text, source=str(path))
