"""The monitoring probe reads the certificate a server presents, which may differ from the file on disk."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from mtlslab.errors import InputError
from mtlslab.lifecycle.fleet import Fleet
from mtlslab.lifecycle.probe import fetch_served_certificate
from mtlslab.pki.renew import renew
from mtlslab.pki import summarize
from mtlslab.pki.files import load_certificates


@pytest.fixture(scope="module")
def expired_server(intermediate):
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)
    return intermediate.issue_server("localhost", valid_from=started, lifetime=dt.timedelta(hours=24))


def renewed_fleet(directory, root, intermediate, expired_server, reload):
    fleet = Fleet(directory, expired_server, [root.certificate], reload=reload)
    fleet.set_server(renew(intermediate, expired_server, lifetime=dt.timedelta(hours=24)))
    return fleet


def test_probe_returns_served_leaf(tmp_path, root, server, client):
    with Fleet(tmp_path, server, [root.certificate]) as fleet:
        assert fetch_served_certificate(fleet.server.port, client) == server.certificate


def test_probe_without_client_certificate(tmp_path, root, server):
    with Fleet(tmp_path, server, [root.certificate]) as fleet:
        assert fetch_served_certificate(fleet.server.port) == server.certificate


def test_probe_sees_expired_certificate_not_file(tmp_path, root, intermediate, expired_server, client):
    with renewed_fleet(tmp_path, root, intermediate, expired_server, reload=False) as fleet:
        served = fetch_served_certificate(fleet.server.port, client)
        on_disk = load_certificates(fleet.files.chain)[0]
    assert served == expired_server.certificate
    assert summarize(served).status == "expired"
    assert summarize(on_disk).status == "valid"


def test_probe_sees_reloaded_certificate(tmp_path, root, intermediate, expired_server, client):
    with renewed_fleet(tmp_path, root, intermediate, expired_server, reload=True) as fleet:
        served = fetch_served_certificate(fleet.server.port, client)
        on_disk = load_certificates(fleet.files.chain)[0]
    assert served == on_disk
    assert summarize(served).status == "valid"


def test_probe_reports_closed_port():
    with pytest.raises(InputError, match="no TLS handshake with 127.0.0.1"):
        fetch_served_certificate(_closed_port())


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        return listener.getsockname()[1]
