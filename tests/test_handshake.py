"""Real handshakes between two Python ssl peers on loopback, each success with its failing twins."""

from __future__ import annotations

import datetime as dt

import pytest

from mtlslab.handshake import run_handshake
from mtlslab.pki import CertificateAuthority, client_context, server_context

VERSIONS = ["1.2", "1.3"]


def mtls(server, client, root, version, **options):
    return run_handshake(
        server_context(server, root, tls_version=version),
        client_context(root, client, tls_version=version),
        **options,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_mtls_handshake_succeeds(root, server, client, version):
    result = mtls(server, client, root, version)
    assert result.ok, str(result)
    assert result.client.tls_version == f"TLSv{version}"
    assert result.server.peer_certificate == client.certificate
    assert result.client.peer_certificate == server.certificate
    assert result.server.received == b"ping"
    assert result.client.received == b"pong: ping"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_rejects_server_from_other_ca(root, other_root, client, version):
    impostor = other_root.create_intermediate().issue_server("localhost")
    result = mtls(impostor, client, root, version)
    assert not result.client.ok
    assert result.client.error_phase == "handshake"
    assert "unable to get local issuer certificate" in result.client.error
    assert result.server.alert_received.name == "unknown_ca"


@pytest.mark.parametrize("version", VERSIONS)
def test_server_rejects_client_from_other_ca(root, other_root, server, version):
    impostor = other_root.create_intermediate().issue_client("impostor")
    result = mtls(server, impostor, root, version)
    assert not result.server.ok
    assert "unable to get local issuer certificate" in result.server.error
    assert result.client.alert_received.name == "unknown_ca"


@pytest.mark.parametrize("version", VERSIONS)
def test_client_rejects_wrong_name(root, server, client, version):
    result = mtls(server, client, root, version, server_hostname="other.example")
    assert not result.client.ok
    assert "Hostname mismatch" in result.client.error
    assert result.server.alert_received.name == "bad_certificate"


def test_missing_client_certificate_tls13_fails_on_first_read(root, server):
    result = mtls(server, None, root, "1.3")
    assert result.client.handshake_completed
    assert result.client.error_phase == "exchange"
    assert result.client.alert_received.code == 116
    assert result.server.error_phase == "handshake"
    assert "peer did not return a certificate" in result.server.error


def test_missing_client_certificate_tls12_fails_in_handshake(root, server):
    result = mtls(server, None, root, "1.2")
    assert not result.client.handshake_completed
    assert result.client.alert_received.name == "handshake_failure"
    assert "peer did not return a certificate" in result.server.error


def test_plain_tls_server_accepts_client_without_certificate(root, server):
    result = run_handshake(
        server_context(server, require_client_certificate=False),
        client_context(root),
    )
    assert result.ok, str(result)
    assert result.server.peer_certificate is None


@pytest.mark.parametrize("version", VERSIONS)
def test_expired_client_certificate_rejected(root, intermediate, server, version):
    now = dt.datetime.now(dt.timezone.utc)
    expired = intermediate.issue_client(valid_from=now - dt.timedelta(days=2), lifetime=dt.timedelta(days=1))
    result = mtls(server, expired, root, version)
    assert not result.server.ok
    assert "certificate has expired" in result.server.error
    assert result.client.alert_received.name == "certificate_expired"


def test_expired_server_certificate_rejected(root, intermediate, client):
    now = dt.datetime.now(dt.timezone.utc)
    expired = intermediate.issue_server(valid_from=now - dt.timedelta(days=2), lifetime=dt.timedelta(days=1))
    result = mtls(expired, client, root, "1.3")
    assert not result.client.ok
    assert "certificate has expired" in result.client.error


def test_server_rejects_server_only_certificate_from_client(root, intermediate, server):
    wrong_purpose = intermediate.issue("client", extended_key_usage=["serverAuth"])
    result = mtls(server, wrong_purpose, root, "1.3")
    assert not result.server.ok
    # OpenSSL 1.1 says "unsupported certificate purpose"; OpenSSL 3 says "unsuitable".
    assert "certificate purpose" in result.server.error


def test_client_without_intermediate_rejected(root, intermediate, server):
    leaf = intermediate.issue_client("lonely")
    leaf_only = type(leaf)(certificate=leaf.certificate, private_key=leaf.private_key, chain=())
    result = mtls(server, leaf_only, root, "1.3")
    assert not result.server.ok
    assert "unable to get local issuer certificate" in result.server.error


@pytest.mark.parametrize("key_type", ["rsa2048", "ed25519"])
def test_other_key_types_complete_handshake(key_type):
    root = CertificateAuthority.create_root(key_type=key_type)
    issuer = root.create_intermediate(key_type=key_type)
    result = mtls(issuer.issue_server(key_type=key_type), issuer.issue_client(key_type=key_type), root, "1.3")
    assert result.ok, str(result)


def test_error_text_drops_source_location(root, other_root, client):
    impostor = other_root.issue_server("localhost")
    result = mtls(impostor, client, root, "1.3")
    assert "_ssl.c" not in result.client.error


def test_result_text_names_both_sides(root, server, client):
    text = str(mtls(server, client, root, "1.3"))
    assert text.startswith("client: OK, TLSv1.3")
    assert "server: OK" in text
    assert "URI:spiffe://test.local/ns/demo/sa/client" in text


def test_missing_server_hostname_is_reported(root, server, client):
    result = mtls(server, client, root, "1.3", server_hostname=None)
    assert result.client.error_phase == "connect"
    assert "server_hostname" in result.client.error
