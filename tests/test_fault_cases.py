"""The troubleshooting lab's numbered cases: each number builds its scenario's files, and bad numbers are refused."""

from __future__ import annotations

import pytest

from mtlslab.errors import InputError
from mtlslab.faults import SCENARIOS
from mtlslab.faults.cases import TROUBLESHOOTING_CASES, open_case


@pytest.mark.parametrize("number", sorted(TROUBLESHOOTING_CASES))
def test_case_names_a_scenario(number):
    assert TROUBLESHOOTING_CASES[number] in SCENARIOS


def test_case_finding_is_scenario_finding(tmp_path):
    assert open_case(1, tmp_path).expected_finding == SCENARIOS[TROUBLESHOOTING_CASES[1]].finding


def test_case_handshake_fails(tmp_path):
    assert not open_case(1, tmp_path).broken.client.ok or not open_case(1, tmp_path / "again").broken.server.ok


@pytest.mark.parametrize("number", [0, 9, "1", True])
def test_unknown_case_rejected(tmp_path, number):
    with pytest.raises(InputError):
        open_case(number, tmp_path)


def _lab_namespace(*titles: str) -> dict:
    """Run the setup cell and the cells of lab 08's solution up to case 2's fix exercise, without the check cells."""
    import json
    from pathlib import Path

    notebook = json.loads((Path(__file__).parent.parent / "solutions" / "08-troubleshooting.ipynb").read_text())
    namespace: dict = {}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith("@check") or source.startswith("# Clean"):
            continue
        if "case_3" in source:
            break
        exec(compile(source, "lab08", "exec"), namespace)
    namespace["checks"] = {
        "".join(c["source"]).split('"')[1]: "".join(c["source"]) for c in notebook["cells"] if "".join(c["source"]).startswith("@check")
    }
    return namespace


@pytest.fixture(scope="module")
def lab():
    namespace = _lab_namespace()
    yield namespace
    import shutil

    shutil.rmtree(namespace["workdir"], ignore_errors=True)


def _run_check(lab, title, monkeypatch):
    monkeypatch.delenv("MTLSLAB_CHECKS_RAISE", raising=False)
    exec(compile(lab["checks"][title], "check", "exec"), lab)
    return lab["_"]


def test_lab_prediction_as_string_fails(lab, monkeypatch):
    lab["stage_1"] = "5"
    assert "int" in _run_check(lab, "Case 1: prediction", monkeypatch).detail


def test_lab_prediction_as_int_passes(lab, monkeypatch):
    lab["stage_1"], lab["alert_1"] = 5, "unknown_ca"
    assert _run_check(lab, "Case 1: prediction", monkeypatch).passed


def test_lab_case_2_certificate_from_root_fails(lab, monkeypatch):
    lab["server_2"] = lab["case_2"].peers.issuer.parent.issue_server("localhost")
    lab["case_2"].deployment.write("server", credential=lab["server_2"])
    assert not _run_check(lab, "Case 2: fix", monkeypatch).passed


def test_lab_case_2_certificate_from_issuer_passes(lab, monkeypatch):
    lab["server_2"] = lab["case_2"].peers.issuer.issue_server("localhost")
    lab["case_2"].deployment.write("server", credential=lab["server_2"])
    assert _run_check(lab, "Case 2: fix", monkeypatch).passed


def test_lab_builds_cases_by_number_only():
    import json
    from pathlib import Path

    text = (Path(__file__).parent.parent / "solutions" / "08-troubleshooting.ipynb").read_text()
    cells = ["".join(c["source"]) for c in json.loads(text)["cells"]]
    assert not any(name in cell for cell in cells if "open_case(" in cell for name in TROUBLESHOOTING_CASES.values())
