"""The benchmark scripts that make bench runs, on tiny inputs: they finish and report every field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def run_tool(name: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOLS / name), *arguments], capture_output=True, text=True, timeout=120)


def test_bench_stages_report(tmp_path):
    report = tmp_path / "stages.json"
    completed = run_tool("bench_stages.py", "--handshakes", "5", "--report", str(report))
    assert completed.returncode == 0, completed.stderr
    data = json.loads(report.read_text())
    assert data["handshakes"] == 5
    assert data["stages_handshakes_per_second"] > 0
    assert data["stages_cli_handshakes_per_second"] > 0
    assert data["record_and_dissect_one_seconds"] > 0


def test_bench_stages_tls12(tmp_path):
    completed = run_tool("bench_stages.py", "--handshakes", "3", "--tls", "1.2")
    assert completed.returncode == 0, completed.stderr
    assert "3 connections (3 complete)" in completed.stdout


def test_bench_diagnose_report(tmp_path):
    report = tmp_path / "diagnose.json"
    completed = run_tool("bench_diagnose.py", "--runs", "2", "--roots", "3", "--report", str(report))
    assert completed.returncode == 0, completed.stderr
    data = json.loads(report.read_text())
    assert data["runs"] == 2
    assert data["min_seconds"] <= data["median_seconds"] <= data["max_seconds"]
    assert data["target_seconds"] == 0.5
