"""The demo PKI against the openssl command: chain verification and mTLS handshakes."""

from __future__ import annotations

import subprocess

import pytest

from conftest import requires_openssl
from mtlslab.cli import main
from openssl_tools import finish, openssl_server, run_client

pytestmark = requires_openssl

SERVER = ("-Verify", "1", "-verify_return_error", "-CAfile", "root-ca.pem", "-key", "server-key.pem")
CLIENT = ("-servername", "localhost", "-verify_hostname", "localhost", "-verify_return_error", "-CAfile", "root-ca.pem")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    assert main(["pki", "demo", str(directory)]) == 0
    return directory


def openssl_verify(directory, *arguments):
    return subprocess.run(["openssl", "verify", *arguments], cwd=directory, capture_output=True, text=True)


@pytest.mark.parametrize("leaf", ["server.pem", "client.pem"])
def test_openssl_verify_accepts_demo(demo, leaf):
    result = openssl_verify(demo, "-CAfile", "root-ca.pem", "-untrusted", "intermediate-ca.pem", leaf)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{leaf}: OK" in result.stdout


def test_openssl_verify_needs_intermediate(demo):
    result = openssl_verify(demo, "-CAfile", "root-ca.pem", "client.pem")
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in result.stdout + result.stderr


def test_openssl_verify_rejects_other_root(demo, other_root, tmp_path):
    (tmp_path / "other.pem").write_bytes(other_root.cert_pem)
    result = openssl_verify(demo, "-CAfile", str(tmp_path / "other.pem"), "-untrusted", "intermediate-ca.pem", "server.pem")
    assert result.returncode != 0


def test_openssl_verify_checks_purpose(demo):
    result = openssl_verify(demo, "-purpose", "sslclient", "-CAfile", "root-ca.pem", "-untrusted", "intermediate-ca.pem", "server.pem")
    assert result.returncode != 0
    assert "certificate purpose" in result.stdout + result.stderr


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_openssl_mtls_handshake(demo, version):
    with openssl_server(demo, *SERVER, "-cert", "server.pem", "-cert_chain", "intermediate-ca.pem", version) as (port, server):
        client = run_client(
            demo, port, *CLIENT, "-cert", "client.pem", "-key", "client-key.pem", "-cert_chain", "intermediate-ca.pem"
        )
        server_output = finish(server)
    client_output = client.stdout.decode()
    assert "Verification: OK" in client_output
    assert "Verify return code: 0 (ok)" in client_output
    assert "1 server accepts that finished" in server_output
    assert "\nhello\n" in server_output
    assert "depth=0 CN = client" in server_output


def test_openssl_server_rejects_client_without_certificate(demo):
    with openssl_server(demo, *SERVER, "-cert", "server.pem", "-cert_chain", "intermediate-ca.pem", "-tls1_2") as (port, server):
        client = run_client(demo, port, *CLIENT)
        server_output = finish(server)
    assert "peer did not return a certificate" in server_output
    assert "1 server accepts that finished" not in server_output
    assert b"handshake failure" in client.stdout + client.stderr


def test_openssl_server_rejects_client_without_intermediate(demo):
    with openssl_server(demo, *SERVER, "-cert", "server.pem", "-cert_chain", "intermediate-ca.pem", "-tls1_2") as (port, server):
        run_client(demo, port, *CLIENT, "-cert", "client.pem", "-key", "client-key.pem")
        server_output = finish(server)
    assert "unable to get local issuer certificate" in server_output
    assert "1 server accepts that finished" not in server_output


def test_openssl_client_rejects_server_without_intermediate(demo):
    with openssl_server(demo, *SERVER, "-cert", "server.pem", "-tls1_3") as (port, server):
        client = run_client(demo, port, *CLIENT, "-cert", "client.pem", "-key", "client-key.pem", "-cert_chain", "intermediate-ca.pem")
        finish(server)
    output = (client.stdout + client.stderr).decode()
    assert "unable to get local issuer certificate" in output
    assert client.returncode != 0
