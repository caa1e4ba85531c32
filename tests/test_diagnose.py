"""mtlslab diagnose: every fault scenario named from its files alone, healthy setups clean, bad input rejected."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mtlslab.cli import main
from mtlslab.diagnose.findings import FINDINGS
from mtlslab.faults import SCENARIOS
from mtlslab.faults import builders
from mtlslab.pki import CertificateAuthority
from mtlslab.pki.crl import crl_pem, issue_crl

REQUIRED_IDS = {
    "unknown-ca", "missing-intermediate", "expired", "not-yet-valid", "name-mismatch", "spiffe-id-mismatch",
    "wrong-eku", "issuer-not-ca", "pathlen-exceeded", "name-constraints", "unknown-critical-extension",
    "aki-ski-mismatch", "key-mismatch", "weak-key", "weak-signature", "revoked", "crl-missing", "crl-expired",
    "chain-order", "client-cert-missing", "protocol-mismatch",
}
# Faults that diagnose reports as a warning: whether they fail depends on the peer.
WARNING_FINDINGS = {"no-common-signature-algorithm"}
HAS_OPENSSL = shutil.which("openssl") is not None


def run(*arguments: str) -> tuple[int, list[dict], str]:
    """Run ``mtlslab diagnose ARGUMENTS --json`` in-process; return the exit status, findings and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["diagnose", *arguments, "--json"])
    findings = json.loads(stdout.getvalue())["findings"] if code != 2 else []
    return code, findings, stderr.getvalue()


def ids(findings: list[dict], severity: str | None = None) -> set[str]:
    return {f["id"] for f in findings if severity is None or f["severity"] == severity}


def write(path, data: bytes):
    path.write_bytes(data)
    return str(path)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


# The finding table.


def test_findings_cover_required_ids():
    assert REQUIRED_IDS <= set(FINDINGS)


@pytest.mark.parametrize("finding_id", sorted(FINDINGS))
def test_finding_has_description_and_fix(finding_id):
    assert FINDINGS[finding_id].description
    assert FINDINGS[finding_id].fix


# Every scenario, from its files alone.


def scenario_params():
    for name, item in SCENARIOS.items():
        marks = [pytest.mark.skipif(not HAS_OPENSSL, reason="no openssl")] if item.requires_openssl else []
        yield pytest.param(name, marks=marks)


@pytest.fixture(scope="module")
def diagnosed(tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            setup = SCENARIOS[name].build()
            directory = tmp_path_factory.mktemp(name)
            arguments = setup.inputs.write(directory) if setup.inputs else None
            cache[name] = (setup, run(*arguments) if arguments else None)
        return cache[name]

    return get


FILE_SCENARIOS = [p for p in scenario_params() if SCENARIOS[p.values[0]].build().inputs is not None]


@pytest.mark.parametrize("name", FILE_SCENARIOS)
def test_scenario_finding_named(diagnosed, name):
    _, (_, findings, _) = diagnosed(name)
    assert SCENARIOS[name].finding in ids(findings), findings


@pytest.mark.parametrize("name", FILE_SCENARIOS)
def test_scenario_finding_severity(diagnosed, name):
    _, (_, findings, _) = diagnosed(name)
    expected = "warning" if SCENARIOS[name].finding in WARNING_FINDINGS else "error"
    assert SCENARIOS[name].finding in ids(findings, expected), findings


@pytest.mark.parametrize("name", FILE_SCENARIOS)
def test_scenario_finding_names_culprit(diagnosed, name):
    setup, (_, findings, _) = diagnosed(name)
    if setup.culprit is None:
        pytest.skip("no single certificate is at fault")
    serials = [f["evidence"].get("serial") for f in findings if f["id"] == SCENARIOS[name].finding]
    assert f"{setup.culprit.serial_number:x}" in serials, findings


@pytest.mark.parametrize("name", FILE_SCENARIOS)
def test_scenario_exit_status(diagnosed, name):
    _, (code, _, _) = diagnosed(name)
    assert code == (0 if SCENARIOS[name].finding in WARNING_FINDINGS else 1)


def test_crl_expired_evidence_names_crl(diagnosed):
    _, (_, findings, _) = diagnosed("crl-expired")
    evidence = next(f["evidence"] for f in findings if f["id"] == "crl-expired")
    assert evidence["field"] == "nextUpdate"


@pytest.mark.parametrize("name", ["plaintext-client", "plaintext-server"])
def test_protocol_scenarios_have_no_files(name):
    assert SCENARIOS[name].build().inputs is None


def test_json_finding_keys(diagnosed):
    _, (_, findings, _) = diagnosed("expired-server-leaf")
    assert set(findings[0]) == {"id", "severity", "message", "evidence", "fix", "runbook"}


def test_json_runbook_path(diagnosed):
    _, (_, findings, _) = diagnosed("expired-server-leaf")
    assert findings[0]["runbook"] == "runbooks/expired.md"


# Healthy setups and negative twins.


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("healthy")
    root = CertificateAuthority.create_root()
    issuer = root.create_intermediate()
    server = issuer.issue_server("svc.ns.svc", "*.ns.svc", uris=("spiffe://cluster.local/ns/ns/sa/svc",))
    client = issuer.issue_client("client", spiffe_id="spiffe://cluster.local/ns/ns/sa/web")
    paths = {
        "root": write(directory / "root.pem", root.cert_pem),
        "server": write(directory / "server-chain.pem", server.chain_pem),
        "server-leaf": write(directory / "server.pem", server.cert_pem),
        "server-key": write(directory / "server-key.pem", server.private_key_pem()),
        "client": write(directory / "client-chain.pem", client.chain_pem),
        "client-key": write(directory / "client-key.pem", client.private_key_pem()),
    }
    credentials = {"root_ca": root, "issuer": issuer, "server_credential": server, "client_credential": client}
    return {"dir": directory, **credentials, **paths}


def test_healthy_server_has_no_findings(pki):
    code, findings, _ = run("--cert", pki["server"], "--key", pki["server-key"], "--ca", pki["root"], "--as", "server", "--name", "svc.ns.svc")
    assert (code, findings) == (0, [])


def test_healthy_client_has_no_findings(pki):
    code, findings, _ = run("--cert", pki["client"], "--key", pki["client-key"], "--ca", pki["root"], "--as", "client")
    assert (code, findings) == (0, [])


def test_healthy_chain_without_role(pki):
    assert run("--cert", pki["server"], "--ca", pki["root"])[0] == 0


def test_large_trust_bundle_finds_root(pki, tmp_path):
    roots = [CertificateAuthority.create_root(f"Root {number}").certificate for number in range(149)]
    bundle = write(tmp_path / "bundle.pem", pem(*roots, pki["root_ca"].certificate))
    assert run("--cert", pki["server"], "--ca", bundle, "--as", "server", "--name", "svc.ns.svc")[0] == 0


@pytest.mark.parametrize("name, expected", [
    ("svc.ns.svc", set()),
    ("SVC.NS.SVC", set()),
    ("a.ns.svc", set()),
    ("a.b.ns.svc", {"name-mismatch"}),
    ("ns.svc", {"name-mismatch"}),
    ("127.0.0.1", set()),
    ("10.0.0.1", {"name-mismatch"}),
    ("spiffe://cluster.local/ns/ns/sa/svc", set()),
    ("spiffe://cluster.local/ns/ns/sa/other", {"spiffe-id-mismatch"}),
])
def test_name_check(pki, name, expected):
    _, findings, _ = run("--cert", pki["server"], "--ca", pki["root"], "--as", "server", "--name", name)
    assert ids(findings, "error") == expected


def test_client_spiffe_id_matches(pki):
    _, findings, _ = run("--cert", pki["client"], "--ca", pki["root"], "--as", "client", "--name", "spiffe://cluster.local/ns/ns/sa/web")
    assert findings == []


def test_server_certificate_as_client_is_wrong_eku(pki):
    _, findings, _ = run("--cert", pki["server"], "--ca", pki["root"], "--as", "client")
    assert ids(findings, "error") == {"wrong-eku"}


def test_client_certificate_without_role_passes(pki):
    assert run("--cert", pki["client"], "--ca", pki["root"])[0] == 0


def test_client_role_without_certificate(pki):
    _, findings, _ = run("--ca", pki["root"], "--as", "client")
    assert ids(findings, "error") == {"client-cert-missing"}


def test_trust_bundle_alone_has_no_client_finding(pki):
    assert run("--ca", pki["root"])[1] == []


def test_wrong_key_is_key_mismatch(pki):
    _, findings, _ = run("--cert", pki["server"], "--key", pki["client-key"], "--ca", pki["root"])
    assert ids(findings, "error") == {"key-mismatch"}


@pytest.mark.parametrize("when, expected", [
    ("+50d", set()),
    ("+89d", {"expiring-soon"}),
    ("+91d", {"expired"}),
    ("-1d", {"not-yet-valid"}),
])
def test_evaluation_time(pki, when, expected):
    _, findings, _ = run("--cert", pki["server"], "--ca", pki["root"], f"--at={when}")
    assert ids(findings) == expected


def test_margin_option_warns(pki):
    _, findings, _ = run("--cert", pki["server"], "--ca", pki["root"], "--margin", "100d")
    assert ids(findings) == {"expiring-soon"}


def test_iso_time_option(pki):
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=120)).strftime("%Y-%m-%dT%H:%MZ")
    assert "expired" in ids(run("--cert", pki["server"], "--ca", pki["root"], "--at", later)[1])


def test_not_yet_valid_reports_seconds(tmp_path, pki):
    leaf = pki["issuer"].issue_server("localhost", valid_from=builders.now() + dt.timedelta(seconds=60))
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", pki["root"])
    evidence = next(f["evidence"] for f in findings if f["id"] == "not-yet-valid")
    assert 55 <= evidence["seconds_ahead"] <= 61


def test_leaf_after_intermediate_is_chain_order_error(pki, tmp_path):
    server = pki["server_credential"]
    path = write(tmp_path / "reversed.pem", pem(*server.chain, server.certificate))
    _, findings, _ = run("--cert", path, "--ca", pki["root"], "--as", "server")
    assert ids(findings, "error") == {"chain-order"}


def test_intermediates_out_of_order_warns(tmp_path):
    root = CertificateAuthority.create_root()
    upper = root.create_intermediate("Upper CA", path_length=1)
    lower = upper.create_intermediate("Lower CA")
    leaf = lower.issue_server("localhost")
    path = write(tmp_path / "chain.pem", pem(leaf.certificate, upper.certificate, lower.certificate))
    _, findings, _ = run("--cert", path, "--ca", write(tmp_path / "root.pem", root.cert_pem))
    assert ids(findings) == {"chain-order"}


def test_ordered_chain_with_root_passes(pki, tmp_path):
    path = write(tmp_path / "full.pem", pki["server_credential"].chain_pem + pki["root_ca"].cert_pem)
    assert run("--cert", path, "--ca", pki["root"])[1] == []


def test_root_sent_but_not_trusted_is_unknown_ca(pki, tmp_path):
    path = write(tmp_path / "full.pem", pki["server_credential"].chain_pem + pki["root_ca"].cert_pem)
    other = write(tmp_path / "other.pem", CertificateAuthority.create_root("Other").cert_pem)
    assert ids(run("--cert", path, "--ca", other)[1], "error") == {"unknown-ca"}


def test_leaf_outliving_issuer_warns(tmp_path):
    root = CertificateAuthority.create_root()
    issuer = root.create_intermediate(lifetime=dt.timedelta(days=200))
    leaf = issuer.issue_server("localhost", lifetime=dt.timedelta(days=365))
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", write(tmp_path / "r.pem", root.cert_pem))
    assert ids(findings) == {"outlives-issuer"}


def test_pinned_self_signed_leaf_passes(tmp_path):
    leaf = builders.build_certificate("localhost", None, dns_names=["localhost"], extended_key_usage=["serverAuth"])
    path = write(tmp_path / "leaf.pem", leaf.cert_pem)
    assert run("--cert", path, "--ca", path, "--as", "server", "--name", "localhost")[1] == []


def test_intermediate_and_root_in_bundle_pass(pki, tmp_path):
    bundle = write(tmp_path / "bundle.pem", pki["issuer"].cert_pem + pki["root_ca"].cert_pem)
    assert run("--cert", pki["server"], "--ca", bundle)[1] == []


def test_leaf_alone_with_issuer_in_bundle_passes(pki, tmp_path):
    bundle = write(tmp_path / "bundle.pem", pki["issuer"].cert_pem + pki["root_ca"].cert_pem)
    assert run("--cert", pki["server-leaf"], "--ca", bundle)[1] == []


def test_server_key_encipherment_only_warns(pki, tmp_path):
    leaf = pki["issuer"].issue_server("localhost", key_type="rsa2048", key_usage=("key_encipherment",))
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", pki["root"], "--as", "server")
    assert ids(findings, "warning") == {"key-usage"}


def test_ca_restricting_eku_is_wrong_eku(pki, tmp_path):
    issuer = builders.build_ca("Server-only CA", pki["root_ca"], path_length=0, extended_key_usage=["serverAuth"])
    client = issuer.issue_client("client")
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", client.chain_pem), "--ca", pki["root"], "--as", "client")
    serials = [f["evidence"]["serial"] for f in findings if f["id"] == "wrong-eku"]
    assert serials == [f"{issuer.certificate.serial_number:x}"]


def test_name_constraints_permit_inside_names(tmp_path):
    root = CertificateAuthority.create_root()
    issuer = builders.build_ca("NC CA", root, path_length=0, permitted_dns_names=["example.internal"])
    leaf = issuer.issue_server("svc.example.internal", ip_addresses=())
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", write(tmp_path / "r.pem", root.cert_pem))
    assert findings == []


def test_name_constraints_excluded_name(tmp_path):
    root = CertificateAuthority.create_root()
    issuer = builders.build_ca("NC CA", root, path_length=0, excluded_dns_names=["secret.internal"])
    leaf = issuer.issue_server("db.secret.internal", ip_addresses=())
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", write(tmp_path / "r.pem", root.cert_pem))
    assert ids(findings, "error") == {"name-constraints"}


def test_pathlen_within_limit_passes(tmp_path):
    root = CertificateAuthority.create_root()
    limited = builders.build_ca("Limited CA", root, path_length=1)
    below = builders.build_ca("Below CA", limited, path_length=0)
    leaf = below.issue_server("localhost")
    _, findings, _ = run("--cert", write(tmp_path / "c.pem", leaf.chain_pem), "--ca", write(tmp_path / "r.pem", root.cert_pem))
    assert findings == []


# Revocation twins.


@pytest.mark.parametrize("revoked, expected", [(False, set()), (True, {"revoked"})])
def test_crl_revocation(pki, tmp_path, revoked, expected):
    listed = [pki["client_credential"].certificate] if revoked else [pki["issuer"].issue_client("other").certificate]
    crl = write(tmp_path / "crl.pem", crl_pem(issue_crl(pki["issuer"], listed)))
    _, findings, _ = run("--cert", pki["client"], "--ca", pki["root"], "--crl", crl, "--as", "client")
    assert ids(findings) == expected


def test_crl_from_other_issuer_is_missing(pki, tmp_path):
    crl = write(tmp_path / "crl.pem", crl_pem(issue_crl(pki["root_ca"], [])))
    assert ids(run("--cert", pki["client"], "--ca", pki["root"], "--crl", crl)[1]) == {"crl-missing"}


def test_crl_with_same_name_other_key_is_missing(pki, tmp_path):
    impostor = CertificateAuthority.create_root().create_intermediate()
    crl = write(tmp_path / "crl.pem", crl_pem(issue_crl(impostor, [pki["client_credential"].certificate])))
    assert ids(run("--cert", pki["client"], "--ca", pki["root"], "--crl", crl)[1]) == {"crl-missing"}


def test_der_crl_accepted(pki, tmp_path):
    crl = issue_crl(pki["issuer"], [])
    path = write(tmp_path / "crl.der", crl.public_bytes(serialization.Encoding.DER))
    assert run("--cert", pki["client"], "--ca", pki["root"], "--crl", path)[1] == []


# Served certificate twins.


def test_served_same_as_disk_passes(pki):
    assert run("--cert", pki["server"], "--served", pki["server"], "--ca", pki["root"])[1] == []


def test_served_older_but_valid_warns(pki, tmp_path):
    older = pki["issuer"].issue_server("svc.ns.svc")
    served = write(tmp_path / "served.pem", older.chain_pem)
    _, findings, _ = run("--cert", pki["server"], "--served", served, "--ca", pki["root"])
    assert ids(findings, "warning") == {"stale-served-certificate"}


# Kubernetes Secrets.


def secret(tmp_path, data: dict[str, bytes], *, as_json=False, name="web-tls") -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "shop"},
        "type": "kubernetes.io/tls",
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }
    path = tmp_path / ("secret.json" if as_json else "secret.yaml")
    path.write_text(json.dumps(document) if as_json else yaml.safe_dump(document))
    return str(path)


@pytest.mark.parametrize("as_json", [False, True])
def test_healthy_secret_passes(pki, tmp_path, as_json):
    server = pki["server_credential"]
    path = secret(tmp_path, {"tls.crt": server.chain_pem, "tls.key": server.private_key_pem(), "ca.crt": pki["root_ca"].cert_pem}, as_json=as_json)
    assert run("--secret", path, "--as", "server", "--name", "svc.ns.svc") == (0, [], "")


def test_secret_with_other_key_is_key_mismatch(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "tls.key": pki["client_credential"].private_key_pem(), "ca.crt": pki["root_ca"].cert_pem})
    _, findings, _ = run("--secret", path)
    assert ids(findings, "error") == {"key-mismatch"}


def test_secret_key_mismatch_names_secret(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "tls.key": pki["client_credential"].private_key_pem(), "ca.crt": pki["root_ca"].cert_pem})
    _, findings, _ = run("--secret", path)
    assert findings[0]["evidence"]["source"] == "tls.crt of Secret web-tls, certificate 1"


def test_secret_leaf_without_chain_is_missing_intermediate(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].cert_pem, "ca.crt": pki["root_ca"].cert_pem})
    assert ids(run("--secret", path)[1], "error") == {"missing-intermediate"}


def test_ca_option_overrides_secret_ca(pki, tmp_path):
    other = write(tmp_path / "other.pem", CertificateAuthority.create_root("Other").cert_pem)
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "ca.crt": pki["root_ca"].cert_pem})
    assert ids(run("--secret", path, "--ca", other)[1], "error") == {"unknown-ca"}


# Istio plug-in CA folders.


def istio_folder(directory, root, ca, key=None, chain=None):
    directory.mkdir(exist_ok=True)
    (directory / "ca-cert.pem").write_bytes(ca.cert_pem)
    (directory / "ca-key.pem").write_bytes((key or ca).private_key_pem())
    (directory / "root-cert.pem").write_bytes(root.cert_pem)
    (directory / "cert-chain.pem").write_bytes(chain if chain is not None else ca.cert_pem + root.cert_pem)
    return str(directory)


def test_healthy_istio_cacerts_passes(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    ca = root.create_intermediate("cluster-1 CA")
    assert run("--istio-cacerts", istio_folder(tmp_path / "cacerts", root, ca)) == (0, [], "")


def test_istio_leaf_as_ca_is_issuer_not_ca(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    leaf_ca = builders.build_certificate("cluster-1 CA", root, ca=False, key_usage=("digital_signature",))
    _, findings, _ = run("--istio-cacerts", istio_folder(tmp_path / "cacerts", root, leaf_ca))
    assert ids(findings, "error") == {"issuer-not-ca"}


def test_istio_ca_without_key_cert_sign(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    ca = builders.build_ca("cluster-1 CA", root, key_usage=("digital_signature", "crl_sign"))
    assert ids(run("--istio-cacerts", istio_folder(tmp_path / "cacerts", root, ca))[1], "error") == {"issuer-not-ca"}


def test_istio_wrong_key_is_key_mismatch(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    ca = root.create_intermediate("cluster-1 CA")
    other = root.create_intermediate("cluster-2 CA")
    assert ids(run("--istio-cacerts", istio_folder(tmp_path / "cacerts", root, ca, key=other))[1], "error") == {"key-mismatch"}


def test_istio_chain_wrong_start(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    ca = root.create_intermediate("cluster-1 CA")
    folder = istio_folder(tmp_path / "cacerts", root, ca, chain=root.cert_pem)
    assert ids(run("--istio-cacerts", folder)[1], "error") == {"chain-order"}


def test_istio_root_limiting_path_length(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root", path_length=0)
    ca = root.create_intermediate("cluster-1 CA")
    assert ids(run("--istio-cacerts", istio_folder(tmp_path / "cacerts", root, ca))[1], "error") == {"pathlen-exceeded"}


def test_istio_secret_form_passes(tmp_path):
    root = CertificateAuthority.create_root("Mesh Root")
    ca = root.create_intermediate("cluster-1 CA")
    data = {"ca-cert.pem": ca.cert_pem, "ca-key.pem": ca.private_key_pem(), "root-cert.pem": root.cert_pem, "cert-chain.pem": ca.cert_pem + root.cert_pem}
    assert run("--secret", secret(tmp_path, data, name="cacerts"))[:2] == (0, [])


# Text output.


def test_text_output_lists_runbook(pki, capsys):
    code = main(["diagnose", "--cert", pki["server"], "--ca", pki["root"], "--name", "other.example"])
    output = capsys.readouterr().out
    assert "runbook: runbooks/name-mismatch.md" in output
    assert code == 1


def test_text_output_healthy(pki, capsys):
    main(["diagnose", "--cert", pki["server"], "--ca", pki["root"]])
    assert "No problems found." in capsys.readouterr().out


# Unusable input: exit 2 with one line and no traceback.


@pytest.fixture
def garbage(tmp_path, pki):
    pem_text = pki["server_credential"].cert_pem
    truncated = pem_text[: len(pem_text) // 2] + b"\n-----END CERTIFICATE-----\n"
    (tmp_path / "folder").mkdir()
    files = {
        "random": os.urandom(600),
        "truncated": truncated,
        "empty": b"",
        "csr": b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    }
    paths = {name: write(tmp_path / name, data) for name, data in files.items()}
    paths["folder"] = str(tmp_path / "folder")
    paths["missing"] = str(tmp_path / "missing.pem")
    paths["bad-base64"] = secret(tmp_path, {}, name="broken")
    text = (tmp_path / "secret.yaml").read_text().replace("data: {}", "data:\n  tls.crt: '%%%not base64%%%'")
    (tmp_path / "secret.yaml").write_text(text)
    paths["configmap"] = write(tmp_path / "cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    paths["bad-yaml"] = write(tmp_path / "bad.yaml", b"kind: Secret\ndata: [unclosed\n")
    paths["cert"] = pki["server"]
    paths["root"] = pki["root"]
    return paths


@pytest.mark.parametrize("arguments", [
    ["--cert", "{random}"],
    ["--cert", "{truncated}"],
    ["--cert", "{empty}"],
    ["--cert", "{csr}"],
    ["--cert", "{folder}"],
    ["--cert", "{missing}"],
    ["--ca", "{random}"],
    ["--cert", "{cert}", "--key", "{random}"],
    ["--cert", "{cert}", "--key", "{cert}"],
    ["--cert", "{cert}", "--crl", "{random}"],
    ["--cert", "{cert}", "--crl", "{empty}"],
    ["--secret", "{bad-base64}"],
    ["--secret", "{configmap}"],
    ["--secret", "{bad-yaml}"],
    ["--secret", "{folder}"],
    ["--istio-cacerts", "{cert}"],
    ["--istio-cacerts", "{folder}"],
    ["--key", "{random}"],
    ["--cert", "{cert}", "--name", "spiffe://Bad Domain/x"],
    [],
])
def test_unusable_input_exits_2(garbage, arguments):
    code, _, stderr = run(*[argument.format(**garbage) for argument in arguments])
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("arguments", [["--cert", "{random}"], ["--secret", "{bad-base64}"], ["--at", "yesterday", "--cert", "{cert}"], ["--margin", "soon", "--cert", "{cert}"]])
def test_unusable_input_no_traceback(garbage, arguments):
    command = [sys.executable, "-m", "mtlslab", "diagnose", *[argument.format(**garbage) for argument in arguments]]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr


def test_bad_base64_message_names_key(garbage):
    _, _, stderr = run("--secret", garbage["bad-base64"])
    assert "data.tls.crt is not valid base64" in stderr


# A re-keyed intermediate, a root sent instead of the intermediate, and what a Secret leaves unchecked.


def test_rekeyed_intermediate_is_missing_intermediate(pki, tmp_path):
    rekeyed = pki["root_ca"].create_intermediate("mtlslab Intermediate CA")
    leaf = pki["issuer"].issue_server("server")
    chain = write(tmp_path / "chain.pem", pem(leaf.certificate, rekeyed.certificate))
    _, findings, _ = run("--cert", chain, "--ca", pki["root"])
    assert ids(findings, "error") == {"missing-intermediate"}


def test_rekeyed_intermediate_message_names_chain(pki, tmp_path):
    rekeyed = pki["root_ca"].create_intermediate("mtlslab Intermediate CA")
    leaf = pki["issuer"].issue_server("server")
    chain = write(tmp_path / "chain.pem", pem(leaf.certificate, rekeyed.certificate))
    message = run("--cert", chain, "--ca", pki["root"])[1][0]["message"]
    assert "the chain carries a certificate with that name" in message
    assert "trust bundle holds" not in message


def test_rekeyed_intermediate_fix_sends_signer(pki, tmp_path):
    rekeyed = pki["root_ca"].create_intermediate("mtlslab Intermediate CA")
    leaf = pki["issuer"].issue_server("server")
    chain = write(tmp_path / "chain.pem", pem(leaf.certificate, rekeyed.certificate))
    assert "Send the intermediate that signed" in run("--cert", chain, "--ca", pki["root"])[1][0]["fix"]


def test_right_intermediate_twin_passes(pki, tmp_path):
    leaf = pki["issuer"].issue_server("server")
    chain = write(tmp_path / "chain.pem", pem(leaf.certificate, pki["issuer"].certificate))
    assert ids(run("--cert", chain, "--ca", pki["root"])[1], "error") == set()


def test_rotated_root_in_bundle_stays_unknown_ca(pki, tmp_path):
    rotated = CertificateAuthority.create_root()
    bundle = write(tmp_path / "bundle.pem", rotated.cert_pem)
    leaf = rotated.issue_server("server")
    other = CertificateAuthority.create_root().issue_server("server")
    chain = write(tmp_path / "leaf.pem", pem(other.certificate))
    assert leaf.certificate.issuer == other.certificate.issuer
    assert ids(run("--cert", chain, "--ca", bundle)[1], "error") == {"unknown-ca"}


def test_leaf_with_root_does_not_say_only_leaf(pki, tmp_path):
    chain = write(tmp_path / "chain.pem", pem(pki["server_credential"].certificate, pki["root_ca"].certificate))
    message = next(f for f in run("--cert", chain, "--ca", pki["root"])[1] if f["id"] == "missing-intermediate")["message"]
    assert "Only the leaf" not in message


def test_leaf_with_root_says_root_is_useless(pki, tmp_path):
    chain = write(tmp_path / "chain.pem", pem(pki["server_credential"].certificate, pki["root_ca"].certificate))
    message = next(f for f in run("--cert", chain, "--ca", pki["root"])[1] if f["id"] == "missing-intermediate")["message"]
    assert "Sending the root" in message


def test_leaf_alone_still_says_only_leaf(pki, tmp_path):
    chain = write(tmp_path / "leaf.pem", pki["server_credential"].cert_pem)
    assert "Only the leaf" in run("--cert", chain, "--ca", pki["root"])[1][0]["message"]


def _notes(*arguments: str) -> list[str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        main(["diagnose", *arguments, "--json"])
    return json.loads(stdout.getvalue()).get("notes", [])


def test_secret_without_key_notes_tls_key(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "ca.crt": pki["root_ca"].cert_pem})
    assert any("no tls.key" in note for note in _notes("--secret", path))


def test_secret_without_ca_notes_ca_crt(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "tls.key": pki["server_credential"].private_key_pem()})
    assert any("no ca.crt" in note for note in _notes("--secret", path))


def test_secret_note_skips_ca_option(pki, tmp_path):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "tls.key": pki["server_credential"].private_key_pem()})
    assert not any(note.startswith("No trust bundle given (--ca)") for note in _notes("--secret", path))


def test_complete_secret_has_no_notes(pki, tmp_path):
    server = pki["server_credential"]
    path = secret(tmp_path, {"tls.crt": server.chain_pem, "tls.key": server.private_key_pem(), "ca.crt": pki["root_ca"].cert_pem})
    assert _notes("--secret", path) == []


def test_secret_without_key_text_says_not_all_checked(pki, tmp_path, capsys):
    path = secret(tmp_path, {"tls.crt": pki["server_credential"].chain_pem, "ca.crt": pki["root_ca"].cert_pem})
    main(["diagnose", "--secret", path])
    assert "Some checks did not run" in capsys.readouterr().out


def test_weak_key_text_names_python_and_debian(tmp_path):
    text = json.dumps(run(*SCENARIOS["rsa-1024-leaf"].build().inputs.write(tmp_path))[1])
    assert "Python 3.10" in text
    assert "OpenSSL's default security level 2" not in text
