"""A pytest plugin that runs alongside nbval: each notebook's kernel must stay under a memory limit.

nbval runs every notebook in notebooks/ and solutions/ in a fresh kernel. After the
notebook's last cell, and before nbval stops the kernel, this hook reads VmHWM from
/proc/PID/status: the kernel's peak resident set size, which Linux tracks itself, so
one reading covers every cell. A kernel over the limit fails the last cell's teardown.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

DEFAULT_LIMIT_MB = 500


def memory_limit_bytes() -> int:
    """Return the limit in bytes: 500 MB, or MTLSLAB_KERNEL_MEMORY_LIMIT_MB when set."""
    return int(os.environ.get("MTLSLAB_KERNEL_MEMORY_LIMIT_MB", DEFAULT_LIMIT_MB)) * 1000 * 1000


def peak_resident_bytes(pid: int, proc: Path = Path("/proc")) -> int:
    """Return VmHWM, the peak resident set size of process ``pid``, in bytes."""
    status = proc / str(pid) / "status"
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"{status} gives VmHWM in {unit!r}, not kB")
            return int(value) * 1024
    raise ValueError(f"{status} has no VmHWM line")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    notebook = item.parent
    kernel = getattr(notebook, "kernel", None)
    if kernel is None or not sys.platform.startswith("linux"):
        return
    if nextitem is not None and nextitem.parent is notebook:
        return

    pid = getattr(getattr(kernel.km, "provisioner", None), "pid", None)
    if pid is None:
        return
    peak = peak_resident_bytes(pid)
    limit = memory_limit_bytes()
    if peak >= limit:
        pytest.fail(
            f"{Path(str(notebook.fspath)).name}: the kernel peaked at {peak / 1e6:.0f} MB resident, "
            f"over the limit of {limit / 1e6:.0f} MB"
        )
