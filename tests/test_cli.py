"""The mtlslab command as a user runs it: files written, summaries printed, bad input rejected."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mtlslab.pki import generate_private_key, load_certificates
from mtlslab.pki.demo import DEMO_FILES

COMMAND = [sys.executable, "-m", "mtlslab"]

# A PEM block that is not a certificate, generated at run time like every key in the tests.
PUBLIC_KEY_PEM = generate_private_key().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def mtlslab(*arguments: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *arguments], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    result = mtlslab("pki", "demo", str(directory))
    assert result.returncode == 0, result.stderr
    return directory


def test_demo_writes_every_file(demo):
    assert sorted(path.name for path in demo.iterdir()) == sorted(DEMO_FILES)


@pytest.mark.parametrize("name", ["server-key.pem", "client-key.pem"])
def test_demo_private_keys_owner_only(demo, name):
    assert stat.S_IMODE(os.stat(demo / name).st_mode) == 0o600


@pytest.mark.parametrize("role", ["server", "client"])
def test_demo_chain_is_leaf_then_intermediate(demo, role):
    chain = load_certificates(demo / f"{role}-chain.pem")
    assert chain == load_certificates(demo / f"{role}.pem") + load_certificates(demo / "intermediate-ca.pem")


def test_demo_refuses_to_overwrite(demo):
    result = mtlslab("pki", "demo", str(demo))
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert "--force" in result.stderr


def test_demo_force_overwrites(tmp_path):
    assert mtlslab("pki", "demo", str(tmp_path)).returncode == 0
    before = (tmp_path / "root-ca.pem").read_bytes()
    assert mtlslab("pki", "demo", str(tmp_path), "--force").returncode == 0
    assert (tmp_path / "root-ca.pem").read_bytes() != before


def test_demo_key_type_option(tmp_path):
    assert mtlslab("pki", "demo", str(tmp_path), "--key-type", "rsa2048").returncode == 0
    output = mtlslab("inspect", str(tmp_path / "server.pem")).stdout
    assert "RSA 2048 bits" in output


def test_demo_into_a_file_fails(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = mtlslab("pki", "demo", str(target))
    assert result.returncode == 2
    assert "is a file" in result.stderr


def test_inspect_bundle_lists_each_certificate(demo):
    result = mtlslab("inspect", str(demo / "client-chain.pem"))
    assert result.returncode == 0
    assert "Certificate 1 of 2" in result.stdout
    assert "URI:spiffe://mtlslab.local/ns/demo/sa/client" in result.stdout
    assert "CA:TRUE, pathlen 0" in result.stdout


def test_inspect_der_file(demo, tmp_path):
    der = tmp_path / "server.der"
    der.write_bytes(load_certificates(demo / "server.pem")[0].public_bytes(Encoding.DER))
    result = mtlslab("inspect", str(der))
    assert result.returncode == 0
    assert "DNS:localhost" in result.stdout


def test_inspect_json(demo):
    result = mtlslab("inspect", "--json", str(demo / "root-ca.pem"))
    summaries = json.loads(result.stdout)
    assert summaries[0]["is_ca"] is True
    assert summaries[0]["self_signed"] is True


def test_inspect_at_future_time_reports_expired(demo):
    result = mtlslab("inspect", "--at", "2100-01-01T00:00Z", str(demo / "server.pem"))
    assert "Status         expired" in result.stdout


def test_inspect_at_relative_future_time(demo):
    result = mtlslab("inspect", "--at", "+400d", str(demo / "server.pem"))
    assert result.returncode == 0, result.stderr
    assert "Status         expired" in result.stdout


def test_inspect_at_relative_past_time(demo):
    result = mtlslab("inspect", "--at=-2h", str(demo / "server.pem"))
    assert result.returncode == 0, result.stderr
    assert "Status         not yet valid" in result.stdout


def test_inspect_at_relative_near_time_valid(demo):
    result = mtlslab("inspect", "--at", "+30d", str(demo / "server.pem"))
    assert result.returncode == 0, result.stderr
    assert "Status         valid" in result.stdout


def test_inspect_json_times_iso_8601(demo):
    result = mtlslab("inspect", "--json", str(demo / "root-ca.pem"))
    summary = json.loads(result.stdout)[0]
    assert "T" in summary["not_before"]
    assert dt.datetime.fromisoformat(summary["not_after"]).tzinfo is not None


def test_inspect_rejects_bad_time(demo):
    result = mtlslab("inspect", "--at", "tomorrow", str(demo / "server.pem"))
    assert result.returncode == 2
    assert "invalid time" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just some notes\n", "is not a certificate"),
        ("random.bin", bytes(range(256)) * 4, "is not a certificate"),
        ("empty.pem", b"", "is empty"),
        ("public-key.pem", PUBLIC_KEY_PEM, "no certificate"),
    ],
)
def test_inspect_bad_file_one_line_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = mtlslab("inspect", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_inspect_private_key_file(demo):
    result = mtlslab("inspect", str(demo / "server-key.pem"))
    assert result.returncode == 2
    assert "no certificate" in result.stderr


def test_diagnose_empty_key_neutral_message(demo, tmp_path):
    empty = tmp_path / "key.pem"
    empty.write_bytes(b"")
    result = mtlslab("diagnose", "--cert", str(demo / "server-chain.pem"), "--key", str(empty))
    assert result.returncode == 2
    assert "is empty: expected PEM or DER data" in result.stderr
    assert "certificate" not in result.stderr


def test_inspect_truncated_pem(demo, tmp_path):
    path = tmp_path / "truncated.pem"
    path.write_bytes((demo / "server.pem").read_bytes()[:300])
    result = mtlslab("inspect", str(path))
    assert result.returncode == 2
    assert "damaged PEM" in result.stderr


def test_inspect_missing_file(tmp_path):
    result = mtlslab("inspect", str(tmp_path / "missing.pem"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_inspect_directory(tmp_path):
    result = mtlslab("inspect", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


def test_help_describes_every_option():
    demo_help = mtlslab("pki", "demo", "--help").stdout
    for option in ("--key-type", "--days", "--force"):
        assert option in demo_help
    inspect_help = mtlslab("inspect", "--help").stdout
    for option in ("--at", "--json"):
        assert option in inspect_help


def test_top_level_help_lists_commands():
    output = mtlslab("--help").stdout
    assert "pki" in output
    assert "inspect" in output


def test_console_script_installed():
    script = os.path.join(os.path.dirname(sys.executable), "mtlslab")
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.stdout.startswith("mtlslab ")


def test_closed_output_pipe_ends_quietly(tmp_path, demo):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((demo / "client-chain.pem").read_bytes() * 200)
    process = subprocess.Popen([*COMMAND, "inspect", str(bundle)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(100)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr
    assert process.returncode == 141


def test_demo_long_lifetime_keeps_issuers_longer(tmp_path):
    assert mtlslab("pki", "demo", str(tmp_path), "--days", "1000").returncode == 0
    leaf = load_certificates(tmp_path / "server.pem")[0]
    intermediate = load_certificates(tmp_path / "intermediate-ca.pem")[0]
    root = load_certificates(tmp_path / "root-ca.pem")[0]
    assert leaf.not_valid_after_utc < intermediate.not_valid_after_utc < root.not_valid_after_utc


def test_demo_default_intermediate_one_year(tmp_path):
    assert mtlslab("pki", "demo", str(tmp_path)).returncode == 0
    intermediate = load_certificates(tmp_path / "intermediate-ca.pem")[0]
    lifetime = intermediate.not_valid_after_utc - intermediate.not_valid_before_utc
    assert lifetime.days == 365
