"""Optional network namespaces for the simulator's workloads (Linux, root only).

Each workload's app then listens on the loopback interface of its own namespace, as a
container listens inside its pod: only its sidecar, which creates its connection socket
inside that namespace, can reach it. A client in the host namespace cannot, even on
127.0.0.1. All traffic stays on loopback interfaces.

A socket belongs to the namespace of the thread that created it, so the kit creates
sockets in a short-lived thread that first joins the namespace with setns(2).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import threading

from mtlslab.errors import InputError

CLONE_NEWNET = 0x40000000  # from <sched.h>
NETNS_DIRECTORY = "/var/run/netns"


def namespaces_unavailable_reason() -> str | None:
    """Return why the simulator cannot create network namespaces here, or None if it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "creating network namespaces needs root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    return None


class NetworkNamespace:
    """A network namespace created with ``ip netns add`` and removed by :meth:`delete`."""

    def __init__(self, name: str):
        self.name = name
        self._created = False

    def create(self) -> None:
        """Create the namespace and bring its loopback interface up."""
        reason = namespaces_unavailable_reason()
        if reason is not None:
            raise InputError(f"cannot place workloads in network namespaces: {reason}; run without namespaces")
        _run_ip("netns", "add", self.name)
        self._created = True
        _run_ip("-n", self.name, "link", "set", "lo", "up")

    def delete(self) -> None:
        """Remove the namespace if this object created it."""
        if self._created:
            _run_ip("netns", "delete", self.name)
            self._created = False

    def socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
        """Create a socket inside the namespace and return it to the calling thread."""
        result: dict[str, object] = {}

        def create_inside() -> None:
            try:
                _enter(self.name)
                result["socket"] = socket.socket(family, kind)
            except OSError as error:
                result["error"] = error

        thread = threading.Thread(target=create_inside, name=f"netns-{self.name}")
        thread.start()
        thread.join(timeout=5.0)
        if "error" in result:
            raise result["error"]
        if "socket" not in result:
            raise TimeoutError(f"creating a socket in network namespace {self.name} did not finish")
        return result["socket"]


def _enter(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = os.open(os.path.join(NETNS_DIRECTORY, name), os.O_RDONLY)
    try:
        if libc.setns(descriptor, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {name} failed: {os.strerror(error)}")
    finally:
        os.close(descriptor)


def _run_ip(*arguments: str) -> None:
    completed = subprocess.run(["ip", *arguments], capture_output=True, text=True, timeout=10)
    if completed.returncode != 0:
        raise OSError(f"ip {' '.join(arguments)} failed: {completed.stderr.strip()}")
