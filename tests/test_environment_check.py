"""Tests for the environment check: real commands, a real capture socket and real handshakes."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cryptography
import pytest

from conftest import requires_openssl
from mtlslab import environment
from mtlslab.environment import (
    CAP_NET_RAW,
    CaptureCheck,
    HandshakeCheck,
    check_environment,
    check_handshake,
    check_live_capture,
    find_command,
    package_versions,
)
from mtlslab.handshake import run_handshake
from mtlslab.pki import client_context, server_context

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status (Linux)")


def _has_cap_net_raw() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    capabilities = environment._effective_capabilities(Path("/proc/self/status").read_text())
    return bool(capabilities and capabilities & (1 << CAP_NET_RAW))


@pytest.fixture(scope="module")
def report():
    return check_environment()


def _write_status(tmp_path: Path, effective: int) -> Path:
    status = tmp_path / "status"
    status.write_text(f"Name:\tpython\nCapInh:\t0000000000000000\nCapEff:\t{effective:016x}\n")
    return status


# Commands


@requires_openssl
def test_openssl_found_at_real_path(report):
    assert report.openssl.path == shutil.which("openssl")


@requires_openssl
def test_openssl_version_read_from_command(report):
    assert report.openssl.version is not None
    assert re.search(r"\d+\.\d+", report.openssl.version)


def test_missing_command_not_found():
    command = find_command("mtlslab-no-such-command", version_arguments=("version",))
    assert not command.found
    assert command.version is None
    assert str(command) == "not found on PATH"


@pytest.mark.skipif(shutil.which("false") is None, reason="the false command is not installed")
def test_failing_command_found_without_version():
    command = find_command("false", version_arguments=("--version",))
    assert command.found
    assert command.version is None


def test_tshark_presence_matches_path(report):
    assert report.tshark.path == shutil.which("tshark")


# Packages


def test_package_version_of_installed_package():
    assert package_versions(("cryptography",)) == {"cryptography": cryptography.__version__}


def test_package_version_of_missing_package():
    assert package_versions(("mtlslab-no-such-package",)) == {"mtlslab-no-such-package": None}


def test_report_lists_python_version(report):
    assert report.python_version.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")


# Live capture


def test_capture_reason_always_given(report):
    assert isinstance(report.live_capture.reason, str)
    assert report.live_capture.reason.strip()


@linux_only
def test_capture_without_cap_net_raw_not_possible(tmp_path):
    capture = check_live_capture(_write_status(tmp_path, effective=0))
    assert not capture.possible


@linux_only
def test_capture_without_cap_net_raw_names_capability(tmp_path):
    capture = check_live_capture(_write_status(tmp_path, effective=0))
    assert "CAP_NET_RAW" in capture.reason


@linux_only
def test_capability_check_passes_with_cap_net_raw(tmp_path):
    status = _write_status(tmp_path, effective=1 << CAP_NET_RAW)
    assert environment._missing_capture_capability(status) is None


def test_effective_capabilities_parsed():
    assert environment._effective_capabilities("CapPrm:\t0\nCapEff:\t0000000000002000\n") == 1 << CAP_NET_RAW


def test_effective_capabilities_absent():
    assert environment._effective_capabilities("Name:\tpython\n") is None


@pytest.mark.skipif(not _has_cap_net_raw(), reason="this process lacks CAP_NET_RAW")
def test_capture_possible_with_cap_net_raw(report):
    assert report.live_capture.possible, report.live_capture.reason


def test_capture_probe_missing_interface_fails():
    reason = environment._probe_capture_socket("mtlslab-none0")
    assert reason is not None
    assert "mtlslab-none0" in reason


@linux_only
@pytest.mark.skipif(not _has_cap_net_raw() or shutil.which("setpriv") is None, reason="needs setpriv and CAP_NET_RAW")
def test_capture_in_process_without_cap_net_raw():
    script = (
        "import dataclasses, json\n"
        "from mtlslab.environment import check_live_capture\n"
        "print(json.dumps(dataclasses.asdict(check_live_capture())))\n"
    )
    command = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", sys.executable, "-c", script]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ.copy())
    if completed.returncode != 0 and "setpriv" in completed.stderr:
        pytest.skip(f"setpriv cannot drop CAP_NET_RAW here: {completed.stderr.strip()}")
    capture = json.loads(completed.stdout)
    assert capture["possible"] is False
    assert "CAP_NET_RAW" in capture["reason"]


# Handshake


def test_handshake_check_passes():
    assert check_handshake().ok


def test_handshake_check_names_version():
    assert "TLSv1.3" in check_handshake().detail


def test_handshake_check_fails_for_unknown_ca(server, root, client, other_root):
    result = run_handshake(server_context(server, root), client_context(other_root, client))
    check = HandshakeCheck.from_result(result)
    assert not check.ok
    assert "certificate verify failed" in check.detail


def test_handshake_check_fails_without_client_certificate(server, root, client):
    result = run_handshake(server_context(server, require_client_certificate=False), client_context(root, client))
    check = HandshakeCheck.from_result(result)
    assert not check.ok
    assert "sent no certificate" in check.detail


# Report


def test_report_has_no_problems(report):
    assert report.problems == []


def test_report_table_lists_every_item(report):
    text = str(report)
    for item, _ in report.rows():
        assert item in text


def test_report_table_marks_handshake_ok(report):
    assert "loopback mTLS handshake  OK" in str(report)


def test_problems_name_failed_handshake(report):
    broken = dataclasses.replace(report, handshake=HandshakeCheck(False, "client: failed during handshake"))
    assert any("handshake failed" in problem for problem in broken.problems)


def test_problems_name_old_python(report):
    old = dataclasses.replace(report, python_version="3.9.18")
    assert any("Python 3.9.18 is too old" in problem for problem in old.problems)


def test_problems_name_python_310(report):
    old = dataclasses.replace(report, python_version="3.10.14")
    assert any("Python 3.10.14 is too old: install Python 3.11 or newer" in problem for problem in old.problems)


def test_problems_accept_python_311(report):
    minimum = dataclasses.replace(report, python_version="3.11.0")
    assert not any("too old" in problem for problem in minimum.problems)


def test_problems_name_missing_package(report):
    packages = {**report.packages, "scapy": None}
    assert any(problem.startswith("scapy is not installed") for problem in dataclasses.replace(report, packages=packages).problems)


def test_limitations_name_impossible_capture(report):
    blocked = dataclasses.replace(report, live_capture=CaptureCheck(False, "no CAP_NET_RAW"))
    assert any(limitation.startswith("live capture is not possible") for limitation in blocked.limitations)


def test_limitations_name_missing_openssl(report):
    missing = dataclasses.replace(report, openssl=environment.Command("openssl"))
    assert any("openssl command is missing" in limitation for limitation in missing.limitations)
