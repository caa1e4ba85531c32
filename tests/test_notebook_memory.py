"""Every notebook runs in a kernel that stays under 500 MB of resident memory.

Each notebook executes in a fresh kernel. After the last cell, and before the kernel
shuts down, the test reads the kernel process's VmHWM from /proc/PID/status: the peak
resident set size since the process started, which Linux tracks itself, so one reading
covers every cell.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LIMIT_BYTES = 500 * 1000 * 1000

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kernel's peak memory is read from /proc/PID/status, which only Linux has"
)


def peak_resident_bytes(pid: int) -> int:
    """Return VmHWM, the peak resident set size of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"/proc/{pid}/status gives VmHWM in {unit!r}, not kB")
            return int(value) * 1024
    raise ValueError(f"/proc/{pid}/status has no VmHWM line")


def kernel_pid(client: NotebookClient) -> int:
    """Return the process id of the kernel that ``client`` started, or skip when the provisioner hides it."""
    pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
    if pid is None:
        pytest.skip("the kernel provisioner does not expose the kernel's process id")
    return pid


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_kernel_stays_under_500_mb(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3")
    with client.setup_kernel(cwd=str(path.parent)):
        pid = kernel_pid(client)
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak = peak_resident_bytes(pid)

    assert peak < LIMIT_BYTES, f"{path.name}: the kernel peaked at {peak / 1e6:.0f} MB resident, over 500 MB"
