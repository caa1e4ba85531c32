"""Fault scenarios written as files: the peers each scenario records, and deployments that fail and heal on disk."""

from __future__ import annotations

import contextlib
import functools
import io
import json

import pytest
import yaml

from mtlslab.cli import main
from mtlslab.errors import InputError
from mtlslab.faults import SCENARIOS, stage_of
from mtlslab.faults.deployment import Deployment, format_outcome, trust_pem, write_deployment
from mtlslab.pki import CertificateAuthority, Credential

# Scenarios whose faulty peer runs at a lowered security level: their files fail to load at the default level.
LOWERED_SECURITY_LEVEL = {"rsa-1024-peer", "sha1-signature-peer"}
# Scenarios whose peers are not two certificate-based Python peers.
WITHOUT_PEERS = {"spiffe-id-mismatch", "no-common-signature-algorithm", "plaintext-client", "plaintext-client-other-protocol", "plaintext-server"}
WITH_PEERS = [name for name in SCENARIOS if name not in WITHOUT_PEERS]
# The running process serves an expired certificate, but the renewed files connect.
FILES_HEALTHY = {"stale-served-certificate"}
SAME_STAGE_FROM_FILES = [name for name in WITH_PEERS if name not in LOWERED_SECURITY_LEVEL | FILES_HEALTHY]


@functools.cache
def built(name: str):
    return SCENARIOS[name].build()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    cache = {}

    def get(name: str) -> Deployment:
        if name not in cache:
            cache[name] = write_deployment(tmp_path_factory.mktemp(name), built(name).peers)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def pki():
    root = CertificateAuthority.create_root("Deployment Root CA")
    issuer = root.create_intermediate("Deployment Issuer")
    return root, issuer, issuer.issue_server("localhost"), issuer.issue_client("web")


@pytest.fixture
def healthy(pki, tmp_path) -> Deployment:
    root, _, server, client = pki
    deployment = Deployment(tmp_path / "healthy")
    deployment.write("server", credential=server, trust=root)
    deployment.write("client", credential=client, trust=root)
    return deployment


def error_ids(report) -> set[str]:
    return {finding.id for finding in report.findings if finding.severity == "error"}


# Peers that the catalog records.


@pytest.mark.parametrize("name", sorted(WITHOUT_PEERS))
def test_scenario_without_peers(name):
    assert built(name).peers is None


@pytest.mark.parametrize("name", WITH_PEERS)
def test_peers_name_faulty_side(name):
    assert built(name).peers.faulty_side == built(name).faulty_side


@pytest.mark.parametrize("name", WITH_PEERS)
def test_peers_issuer_signed_faulty_leaf(name):
    peers = built(name).peers
    faulty = peers.server if peers.faulty_side == "server" else peers.client
    if peers.issuer is None or faulty is None:
        pytest.skip("no CA issued the faulty peer's certificate")
    assert faulty.certificate.issuer == peers.issuer.certificate.subject


def test_self_signed_leaf_has_no_issuer():
    assert built("self-signed-leaf").peers.issuer is None


def test_missing_client_certificate_has_issuer():
    assert built("client-certificate-missing-tls13").peers.issuer is not None


def test_stale_served_peers_hold_renewed_file():
    setup = built("stale-served-certificate")
    assert setup.peers.server.certificate != setup.culprit


# Deployments written from scenarios.


@pytest.mark.parametrize("name", SAME_STAGE_FROM_FILES)
def test_files_stop_at_scenario_stage(written, name):
    result = written(name).handshake()
    assert stage_of(result.client, result.server) == SCENARIOS[name].stage, format_outcome(result)


@pytest.mark.parametrize("name", SAME_STAGE_FROM_FILES)
def test_files_fail(written, name):
    assert not written(name).handshake().ok


@pytest.mark.parametrize("name", WITH_PEERS)
def test_files_diagnosed_with_scenario_finding(written, name):
    if name in FILES_HEALTHY:
        pytest.skip("the files on disk are healthy; only the served certificate is stale")
    deployment = written(name)
    assert SCENARIOS[name].finding in error_ids(deployment.diagnose(built(name).faulty_side))


@pytest.mark.parametrize("name", sorted(LOWERED_SECURITY_LEVEL))
def test_weak_files_fail_at_load(written, name):
    result = written(name).handshake()
    assert result.server.error_phase == "configuration", format_outcome(result)


def test_renewed_files_connect(written):
    result = written("stale-served-certificate").handshake()
    assert result.ok, format_outcome(result)


def test_crl_written_to_verifier(written):
    assert "server/crl.pem" in written("revoked-client").files()


def test_client_without_certificate_has_no_files(written):
    assert "client/tls.crt" not in written("client-certificate-missing-tls13").files()


def test_key_file_private(written):
    mode = (written("expired-client-leaf").client / "tls.key").stat().st_mode
    assert mode & 0o077 == 0


def test_common_name_fallback_connects(written):
    strict = written("common-name-only")
    lenient = Deployment(strict.directory, strict.server_name, hostname_checks_common_name=True)
    assert lenient.handshake().ok


@pytest.mark.parametrize("version, alert", [("1.3", "certificate_required"), ("1.2", "handshake_failure")])
def test_tls_version_override(written, version, alert):
    result = written("client-certificate-missing-tls13").handshake(tls_version=version)
    assert result.client.alert_received.name == alert


# Healthy deployments, and repairs.


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_healthy_deployment_connects(healthy, version):
    result = healthy.handshake(tls_version=version)
    assert result.ok, format_outcome(result)


@pytest.mark.parametrize("role", ["server", "client"])
def test_healthy_deployment_diagnosed_clean(healthy, role):
    assert error_ids(healthy.diagnose(role)) == set()


def test_repaired_trust_bundle_connects(tmp_path):
    peers = built("trust-anchor-rotated").peers
    deployment = write_deployment(tmp_path / "rotation", peers)
    deployment.write("server", trust=[peers.server_trust, peers.client_trust])
    assert deployment.handshake().ok


def test_repaired_trust_bundle_diagnosed_clean(tmp_path):
    peers = built("trust-anchor-rotated").peers
    deployment = write_deployment(tmp_path / "rotation", peers)
    deployment.write("server", trust=[peers.server_trust, peers.client_trust])
    assert error_ids(deployment.diagnose("client")) == set()


def test_write_empty_crls_removes_file(tmp_path):
    deployment = write_deployment(tmp_path / "crl", built("crl-expired").peers)
    deployment.write("server", crls=[])
    assert "server/crl.pem" not in deployment.files()


# Diagnose arguments.


def test_server_checked_against_client_trust(healthy):
    arguments = healthy.diagnose_arguments("server")
    assert arguments == ["--cert", "server/tls.crt", "--key", "server/tls.key", "--ca", "client/ca.crt", "--as", "server", "--name", "localhost"]


def test_client_checked_against_server_trust(healthy):
    assert healthy.diagnose_arguments("client")[4:6] == ["--ca", "server/ca.crt"]


def test_absolute_arguments(healthy):
    assert healthy.diagnose_arguments("client", absolute=True)[1] == str(healthy.client / "tls.crt")


def test_diagnose_command_runs_in_directory(healthy):
    assert healthy.diagnose_command("client") == "mtlslab diagnose --cert client/tls.crt --key client/tls.key --ca server/ca.crt --as client"


# Secrets.


def test_secret_manifest_is_tls_secret(healthy):
    document = yaml.safe_load(healthy.secret_manifest("server", "payments-tls", namespace="shop"))
    assert (document["kind"], document["type"], document["metadata"]) == ("Secret", "kubernetes.io/tls", {"name": "payments-tls", "namespace": "shop"})


def test_secret_manifest_holds_three_files(healthy):
    document = yaml.safe_load(healthy.secret_manifest("server", "payments-tls"))
    assert sorted(document["data"]) == ["ca.crt", "tls.crt", "tls.key"]


def test_secret_file_private(healthy, tmp_path):
    path = healthy.write_secret("server", tmp_path / "secret.yaml", "payments-tls")
    assert path.stat().st_mode & 0o077 == 0


def test_secret_round_trip(healthy, tmp_path):
    path = healthy.write_secret("server", tmp_path / "secret.yaml", "payments-tls")
    other = Deployment(tmp_path / "mounted")
    other.mount_secret("server", path)
    assert (other.server / "tls.key").read_bytes() == (healthy.server / "tls.key").read_bytes()


def test_secret_read_by_diagnose(written, tmp_path):
    path = written("key-mismatch-server").write_secret("server", tmp_path / "secret.yaml", "payments-tls")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        main(["diagnose", "--secret", str(path), "--as", "server", "--json"])
    assert "key-mismatch" in {finding["id"] for finding in json.loads(stdout.getvalue())["findings"]}


@pytest.mark.parametrize("name", ["Payments", "payments_tls", "-payments", "a" * 254])
def test_secret_name_rejected(healthy, name):
    with pytest.raises(InputError, match="invalid Secret name"):
        healthy.secret_manifest("server", name)


def test_secret_without_key_rejected(written):
    with pytest.raises(InputError, match="needs both"):
        written("client-certificate-missing-tls13").secret_manifest("client", "web-tls")


def test_mount_secret_without_key_rejected(tmp_path):
    path = tmp_path / "secret.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\ndata: {}\n")
    with pytest.raises(InputError, match="tls.crt or tls.key"):
        Deployment(tmp_path / "mounted").mount_secret("server", path)


# Bad input.


def test_unknown_role_rejected(healthy):
    with pytest.raises(InputError, match="unknown role"):
        healthy.folder("proxy")


def test_unknown_tls_version_rejected(tmp_path):
    with pytest.raises(InputError, match="unsupported TLS version"):
        Deployment(tmp_path, tls_version="1.1")


def test_handshake_version_override_rejected(healthy):
    with pytest.raises(InputError, match="unsupported TLS version"):
        healthy.handshake(tls_version="1.0")


def test_server_without_certificate_rejected(healthy):
    healthy.remove_credential("server")
    with pytest.raises(InputError, match="needs a certificate"):
        healthy.handshake()


def test_missing_trust_rejected(healthy):
    (healthy.client / "ca.crt").unlink()
    with pytest.raises(InputError, match="ca.crt: no such file"):
        healthy.handshake()


def test_missing_key_rejected(healthy):
    (healthy.client / "tls.key").unlink()
    with pytest.raises(InputError, match="tls.key: no such file"):
        healthy.handshake()


def test_empty_trust_rejected():
    with pytest.raises(InputError, match="trust bundle is empty"):
        trust_pem([])


# Formatting.


def test_outcome_of_success(healthy):
    assert format_outcome(healthy.handshake()).startswith("handshake completed")


def test_outcome_names_stage(written):
    text = format_outcome(written("expired-client-leaf").handshake())
    assert text.startswith("stopped at stage 5: client verification by the server")


def test_outcome_names_alert(written):
    assert "alert received by the client: certificate_expired (45)" in format_outcome(written("expired-client-leaf").handshake())


def test_outcome_of_server_load_failure(written):
    text = format_outcome(written("key-mismatch-server").handshake())
    assert "client: no connection, because the server could not load its certificate and key" in text


def test_trust_pem_accepts_mixed_items(pki):
    root, issuer, server, _ = pki
    bundle = trust_pem([root, issuer.certificate, Credential(server.certificate, server.private_key)])
    assert bundle.count(b"BEGIN CERTIFICATE") == 3


def test_outcome_of_scenario_result():
    text = format_outcome(SCENARIOS["stale-served-certificate"].run(built("stale-served-certificate")))
    assert "alert received by the server: certificate_expired (45)" in text


# Problems that remain.


def test_healthy_deployment_has_no_problems(healthy):
    assert healthy.problems() == []


def test_broken_deployment_lists_handshake(written):
    assert written("expired-client-leaf").problems()[0].startswith("stopped at stage 5")


def test_broken_deployment_lists_finding(written):
    assert any(problem.startswith("client: expired:") for problem in written("expired-client-leaf").problems())


def test_missing_client_certificate_is_problem(written):
    assert any(problem.startswith("client: client-cert-missing:") for problem in written("client-certificate-missing-tls12").problems())


def test_outcome_of_client_load_failure(written):
    text = format_outcome(written("key-mismatch-client").handshake())
    assert "server: no connection, because the client could not load its certificate and key" in text
