"""Run the openssl command as a second TLS peer on loopback."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time

ACCEPT_LINE = re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)")


@contextlib.contextmanager
def openssl_server(directory, *arguments: str, timeout: float = 10.0):
    """Start ``openssl s_server`` on 127.0.0.1 with a system-assigned port for one connection; yield (port, process)."""
    command = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", *arguments]
    # s_server stops at end of input, so its standard input stays open until the end.
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
    try:
        yield _read_port(process, timeout), process
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        if process.poll() is None:
            process.kill()
            process.wait()


def run_client(directory, port: int, *arguments: str, data: bytes = b"hello\n", timeout: float = 10.0):
    """Run ``openssl s_client`` against the loopback port and return the completed process."""
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *arguments]
    return subprocess.run(command, cwd=directory, input=data, capture_output=True, timeout=timeout)


def _read_port(process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        match = ACCEPT_LINE.search(line)
        if match:
            return int(match.group(1))
    raise RuntimeError(f"openssl s_server did not start: {seen.decode(errors='replace')}")


def finish(process: subprocess.Popen, timeout: float = 10.0) -> str:
    """Wait for the server to exit and return the rest of its output as text."""
    output, _ = process.communicate(timeout=timeout)
    return output.decode(errors="replace")
