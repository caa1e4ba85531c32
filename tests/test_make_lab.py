"""`make lab` serves JupyterLab on 127.0.0.1 with the course's notebooks."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "mtlslab-test-token"
URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/lab")

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not (ROOT / ".venv" / ".installed").exists(),
    reason="needs make and the .venv that `make test` creates",
)


@pytest.fixture(scope="module")
def lab_port():
    arguments = f"LAB_ARGS=--no-browser --ServerApp.port=0 --ServerApp.token={TOKEN}"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab", arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield _wait_for_port(process, timeout=60)
    finally:
        _stop(process)


def get(port: int, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def test_lab_page_served(lab_port):
    status, _ = get(lab_port, "/lab")
    assert status == 200


def test_lab_lists_course_notebooks(lab_port):
    _, body = get(lab_port, "/api/contents/notebooks")
    names = {item["name"] for item in json.loads(body)["content"]}
    assert "01-start-here.ipynb" in names


def test_lab_rejects_missing_token(lab_port):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"http://127.0.0.1:{lab_port}/api/contents/notebooks", timeout=10)
    assert error.value.code == 403


def _wait_for_port(process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = URL_LINE.search(line)
        if match:
            port = int(match.group(1))
            _wait_until_listening(port, deadline)
            return port
    _stop(process)
    raise RuntimeError("make lab did not start JupyterLab:\n" + "".join(seen[-20:]))


def _wait_until_listening(port: int, deadline: float) -> None:
    """Wait until the port accepts connections: the URL may be printed a moment before."""
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_lab_opens_start_notebook(lab_port):
    status, body = get(lab_port, "/lab/tree/notebooks/01-start-here.ipynb")
    assert status == 200
    assert b"JupyterLab" in body


def test_lab_root_holds_labs_and_solutions(lab_port):
    _, body = get(lab_port, "/api/contents/")
    names = {item["name"] for item in json.loads(body)["content"]}
    assert {"notebooks", "labs", "solutions"} <= names
