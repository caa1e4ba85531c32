"""Fault scenarios in real handshakes: each fails at its stage with the errors and alerts the TLS stacks report,
and a healthy twin of each setup succeeds."""

from __future__ import annotations

import functools
import shutil

import pytest

from mtlslab.diagnose.findings import FINDINGS
from mtlslab.faults import FAMILIES, SCENARIOS, STAGE_TITLES, DiagnoseInputs, run_scenario, scenario
from mtlslab.faults import peers
from mtlslab.faults.catalog import EXPECTED_SERVER_ID, SIGNATURE_ALGORITHMS_WITHOUT_ED25519
from mtlslab.errors import InputError
from mtlslab.handshake import run_handshake
from mtlslab.pki import CertificateAuthority, client_context, server_context
from mtlslab.pki.crl import issue_crl

HAS_OPENSSL = shutil.which("openssl") is not None


@functools.cache
def result(name: str):
    return run_scenario(name)


def runnable(name: str):
    marks = []
    if SCENARIOS[name].requires_openssl:
        marks.append(pytest.mark.skipif(not HAS_OPENSSL, reason="the openssl command is not installed"))
    return pytest.param(name, marks=marks)


ALL = [runnable(name) for name in SCENARIOS]


# The catalog as a whole.


def test_catalog_covers_every_family():
    assert {s.family for s in SCENARIOS.values()} == set(FAMILIES)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_finding_is_known(name):
    assert SCENARIOS[name].finding in FINDINGS


def test_unknown_scenario_raises():
    with pytest.raises(InputError):
        scenario("no-such-scenario")


# Every scenario fails at its declared stage.


@pytest.mark.parametrize("name", ALL)
def test_scenario_stops_at_its_stage(name):
    assert result(name).stage == SCENARIOS[name].stage, str(result(name))


@pytest.mark.parametrize("name", ALL)
def test_scenario_fails(name):
    outcome = result(name)
    assert outcome.client.error or outcome.server.error, str(outcome)


@pytest.mark.parametrize("name", ALL)
def test_scenario_names_its_finding(name):
    assert result(name).finding == SCENARIOS[name].finding


@pytest.mark.parametrize("name", ALL)
def test_scenario_text_names_stage(name):
    assert STAGE_TITLES[SCENARIOS[name].stage] in str(result(name))


# What each side reports, per family.


@pytest.mark.parametrize(
    "name, side, text",
    [
        ("unknown-ca-client", "server", "unable to get local issuer certificate"),
        ("unknown-ca-server", "client", "unable to get local issuer certificate"),
        ("trust-anchor-rotated", "server", "unable to get local issuer certificate"),
        ("self-signed-leaf", "client", "self-signed certificate"),
        ("missing-intermediate-server", "client", "unable to get local issuer certificate"),
        ("missing-intermediate-client", "server", "unable to get local issuer certificate"),
        ("intermediate-only-trust", "client", "unable to get issuer certificate"),
        ("expired-server-leaf", "client", "certificate has expired"),
        ("expired-client-leaf", "server", "certificate has expired"),
        ("expired-intermediate", "client", "certificate has expired"),
        ("not-yet-valid-client", "server", "certificate is not yet valid"),
        ("not-yet-valid-server", "client", "certificate is not yet valid"),
        ("name-mismatch", "client", "Hostname mismatch, certificate is not valid for 'svc-b.ns.svc'"),
        ("common-name-only", "client", "Hostname mismatch"),
        ("spiffe-id-mismatch", "client", EXPECTED_SERVER_ID),
        ("server-auth-only-client", "server", "unsuitable certificate purpose"),
        ("client-auth-only-server", "client", "unsuitable certificate purpose"),
        ("key-usage-without-digital-signature", "server", "unsuitable certificate purpose"),
        ("issuer-not-ca", "server", "invalid CA certificate"),
        ("issuer-without-key-cert-sign", "server", "invalid CA certificate"),
        ("path-length-exceeded", "client", "path length constraint exceeded"),
        ("name-constraints-violated", "client", "permitted subtree violation"),
        ("unknown-critical-extension", "client", "unhandled critical extension"),
        ("aki-ski-mismatch", "client", "unable to get local issuer certificate"),
        ("key-mismatch-server", "server", "key values mismatch"),
        ("key-mismatch-client", "client", "key values mismatch"),
        ("rsa-1024-leaf", "server", "ee key too small"),
        ("rsa-1024-peer", "client", "EE certificate key too weak"),
        ("rsa-1024-intermediate", "server", "ca key too small"),
        ("sha1-signature", "server", "ca md too weak"),
        ("sha1-signature-peer", "client", "CA signature digest algorithm too weak"),
        ("revoked-client", "server", "certificate revoked"),
        ("crl-missing", "server", "unable to get certificate CRL"),
        ("crl-expired", "server", "CRL has expired"),
        ("client-certificate-missing-tls13", "server", "peer did not return a certificate"),
        ("client-certificate-missing-tls12", "server", "peer did not return a certificate"),
        ("plaintext-client", "server", "http request"),
        ("plaintext-client-other-protocol", "server", "wrong version number"),
        ("plaintext-server", "client", "wrong version number"),
        ("stale-served-certificate", "client", "certificate has expired"),
    ],
)
def test_scenario_error_text(name, side, text):
    report = getattr(result(name), side)
    assert text in (report.error or ""), str(result(name))


@pytest.mark.skipif(not HAS_OPENSSL, reason="the openssl command is not installed")
def test_ed25519_server_finds_no_signature_algorithm():
    assert "no suitable signature algorithm" in result("no-common-signature-algorithm").server.error


@pytest.mark.parametrize(
    "name, receiver, code",
    [
        ("unknown-ca-client", "client", 48),
        ("trust-anchor-rotated", "client", 48),
        ("missing-intermediate-server", "server", 48),
        ("expired-server-leaf", "server", 45),
        ("not-yet-valid-client", "client", 42),
        ("name-mismatch", "server", 42),
        ("server-auth-only-client", "client", 43),
        ("issuer-not-ca", "client", 48),
        ("name-constraints-violated", "server", 46),
        ("revoked-client", "client", 44),
        ("crl-expired", "client", 45),
        ("client-certificate-missing-tls13", "client", 116),
        ("client-certificate-missing-tls12", "client", 40),
        ("stale-served-certificate", "server", 45),
        pytest.param("no-common-signature-algorithm", "client", 40, marks=pytest.mark.skipif(not HAS_OPENSSL, reason="no openssl")),
    ],
)
def test_scenario_alert_on_the_wire(name, receiver, code):
    outcome = result(name)
    assert (outcome.alert_receiver, outcome.alert.code) == (receiver, code), str(outcome)


@pytest.mark.parametrize("name", ["key-mismatch-server", "rsa-1024-leaf", "sha1-signature", "plaintext-client", "plaintext-server", "spiffe-id-mismatch"])
def test_scenario_without_alert(name):
    assert result(name).alert is None


def test_tls13_missing_client_certificate_fails_on_first_read():
    client = result("client-certificate-missing-tls13").client
    assert client.handshake_completed
    assert client.error_phase == "exchange"


def test_tls12_missing_client_certificate_fails_in_handshake():
    client = result("client-certificate-missing-tls12").client
    assert not client.handshake_completed
    assert client.error_phase == "handshake"


def test_plaintext_client_gets_no_reply():
    assert result("plaintext-client").client.received == b""


def test_key_mismatch_fails_before_handshake():
    outcome = result("key-mismatch-server")
    assert outcome.server.error_phase == "configuration"
    assert not outcome.client.handshake_completed


# Diagnose inputs that the scenarios write.


def test_diagnose_inputs_write_arguments(tmp_path):
    arguments = DiagnoseInputs(cert=b"c", key=b"k", role="server", name="localhost").write(tmp_path)
    assert arguments == ["--cert", str(tmp_path / "cert.pem"), "--key", str(tmp_path / "key.pem"), "--as", "server", "--name", "localhost"]


def test_diagnose_inputs_key_private(tmp_path):
    DiagnoseInputs(key=b"k").write(tmp_path)
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0


# Healthy twins: the same runners and options with nothing wrong succeed.


@pytest.fixture(scope="module")
def pki():
    root = CertificateAuthority.create_root()
    issuer = root.create_intermediate()
    return root, issuer, issuer.issue_server("localhost", uris=(EXPECTED_SERVER_ID,)), issuer.issue_client("client")


@pytest.mark.parametrize("tls_version", ["1.2", "1.3"])
def test_healthy_mtls_succeeds(pki, tls_version):
    root, _, server, client = pki
    outcome = run_handshake(server_context(server, root, tls_version=tls_version), client_context(root, client, tls_version=tls_version))
    assert outcome.ok, str(outcome)


def test_matching_spiffe_id_succeeds(pki):
    root, _, server, client = pki
    outcome = peers.run_with_identity_check(server_context(server, root), client_context(root, client), EXPECTED_SERVER_ID)
    assert outcome.ok, str(outcome)


def test_unrevoked_client_with_crl_succeeds(pki):
    root, issuer, server, client = pki
    other = issuer.issue_client("other")
    outcome = run_handshake(server_context(server, root, crls=[issue_crl(issuer, [other.certificate])]), client_context(root, client))
    assert outcome.ok, str(outcome)


@pytest.mark.skipif(not HAS_OPENSSL, reason="the openssl command is not installed")
def test_openssl_client_offering_ed25519_succeeds(pki):
    root, issuer, _, client = pki
    server = issuer.issue_server("localhost", key_type="ed25519")
    outcome = peers.run_openssl_client(server_context(server, root), root.certificate, client, signature_algorithms="ed25519:ecdsa_secp256r1_sha256")
    assert outcome.server.ok, str(outcome)


@pytest.mark.skipif(not HAS_OPENSSL, reason="the openssl command is not installed")
def test_openssl_client_restricted_sigalgs_accepts_ecdsa(pki):
    root, _, server, client = pki
    outcome = peers.run_openssl_client(server_context(server, root), root.certificate, client, signature_algorithms=SIGNATURE_ALGORITHMS_WITHOUT_ED25519)
    assert outcome.server.ok, str(outcome)

