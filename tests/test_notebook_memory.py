"""The kernel memory check that runs with nbval, tested on a small notebook of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbval_memory import peak_resident_bytes

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kernel's peak memory is read from /proc/PID/status, which only Linux has"
)


def write_notebook(directory: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("data = bytearray(50_000_000)\nlen(data)")]
    notebook.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "50000000"}, execution_count=1)]
    notebook.cells[0].execution_count = 1
    path = directory / "memory.ipynb"
    nbformat.write(notebook, path)
    shutil.copy(ROOT / "tests" / "nbval_memory.py", directory / "nbval_memory.py")
    (directory / "conftest.py").write_text('pytest_plugins = ["nbval_memory"]\n')
    return path


def run_nbval(directory: Path, limit_mb: int) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MTLSLAB_KERNEL_MEMORY_LIMIT_MB": str(limit_mb)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "-q", "memory.ipynb"]
    return subprocess.run(command, cwd=directory, env=environment, capture_output=True, text=True, timeout=120)


def test_peak_of_this_process():
    assert peak_resident_bytes(os.getpid()) > 1_000_000


def test_status_without_peak_rejected(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text("Name:\tpython\nVmRSS:\t100 kB\n")
    with pytest.raises(ValueError, match="no VmHWM"):
        peak_resident_bytes(42, proc=tmp_path)


def test_notebook_under_limit_passes(tmp_path):
    write_notebook(tmp_path)
    result = run_nbval(tmp_path, limit_mb=500)
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebook_over_limit_fails(tmp_path):
    write_notebook(tmp_path)
    result = run_nbval(tmp_path, limit_mb=60)
    assert result.returncode != 0
    assert "the kernel peaked at" in result.stdout
