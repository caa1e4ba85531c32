"""The demo PKI: a root, an intermediate, a server and a client, written as PEM files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mtlslab.errors import InputError
from mtlslab.pki.authority import CertificateAuthority
from mtlslab.pki.files import write_credential, write_file
from mtlslab.pki.keys import DEFAULT_KEY_TYPE

TRUST_DOMAIN = "mtlslab.local"
SERVER_SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/ns/demo/sa/server"
CLIENT_SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/ns/demo/sa/client"

DEMO_FILES = (
    "root-ca.pem",
    "intermediate-ca.pem",
    "server.pem",
    "server-key.pem",
    "server-chain.pem",
    "client.pem",
    "client-key.pem",
    "client-chain.pem",
)


def write_demo_pki(
    directory: str | Path,
    *,
    key_type: str = DEFAULT_KEY_TYPE,
    leaf_lifetime: dt.timedelta = dt.timedelta(days=90),
    overwrite: bool = False,
) -> dict[str, Path]:
    """Issue the demo PKI and write :data:`DEMO_FILES` to ``directory``; return the paths by file name.

    The server certificate names ``localhost`` and ``127.0.0.1``; both leaves carry a
    SPIFFE ID. Every certificate and key is made before the first file is written, and
    existing files are kept unless ``overwrite`` is set.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is a file: pass a directory for the demo PKI")
    existing = [name for name in DEMO_FILES if (directory / name).exists()]
    if existing and not overwrite:
        raise InputError(f"{directory / existing[0]} already exists: choose an empty directory or pass --force")

    # Each CA outlives what it issues by at least a month, so a long --days never makes a
    # leaf that stops verifying when its issuer expires.
    intermediate_lifetime = max(dt.timedelta(days=365), leaf_lifetime + dt.timedelta(days=30))
    root_lifetime = max(dt.timedelta(days=3650), intermediate_lifetime + dt.timedelta(days=30))
    root = CertificateAuthority.create_root(key_type=key_type, lifetime=root_lifetime)
    intermediate = root.create_intermediate(key_type=key_type, lifetime=intermediate_lifetime)
    server = intermediate.issue_server(
        "localhost", key_type=key_type, lifetime=leaf_lifetime, uris=(SERVER_SPIFFE_ID,)
    )
    client = intermediate.issue_client(
        "client", spiffe_id=CLIENT_SPIFFE_ID, key_type=key_type, lifetime=leaf_lifetime
    )

    paths = {
        "root-ca.pem": write_file(directory / "root-ca.pem", root.cert_pem),
        "intermediate-ca.pem": write_file(directory / "intermediate-ca.pem", intermediate.cert_pem),
    }
    for name, credential in (("server", server), ("client", client)):
        written = write_credential(credential, directory, name)
        paths[f"{name}.pem"] = written["cert"]
        paths[f"{name}-key.pem"] = written["key"]
        paths[f"{name}-chain.pem"] = written["chain"]
    return paths
