"""Check that this machine can run the course: versions, tools, live capture and a real mTLS handshake.

>>> report = check_environment()
>>> print(report)            # a table for the learner
>>> report.problems          # problems that stop the course, empty when all is well

Nothing here needs privileges. The live-capture check opens a capture socket on the
loopback interface and closes it at once without reading a packet.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import ssl
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mtlslab.handshake import HandshakeResult, run_handshake
from mtlslab.pki import CertificateAuthority, client_context, server_context

MINIMUM_PYTHON = (3, 11)
REQUIRED_PACKAGES = ("cryptography", "scapy", "ipywidgets")
OPTIONAL_PACKAGES = ("jupyterlab",)

# CAP_NET_RAW is capability number 13 in linux/capability.h. Opening a raw packet socket requires it.
CAP_NET_RAW = 13
PROC_STATUS = Path("/proc/self/status")

COMMAND_TIMEOUT = 10.0


@dataclass(frozen=True)
class Command:
    """An external command: where it is on PATH and the version it reports."""

    name: str
    path: str | None = None
    version: str | None = None

    @property
    def found(self) -> bool:
        """True when the command is on PATH."""
        return self.path is not None

    def __str__(self) -> str:
        if not self.found:
            return "not found on PATH"
        if self.version is None:
            return self.path
        return f"{self.version}, at {self.path}"


@dataclass(frozen=True)
class CaptureCheck:
    """The live-capture result for the loopback interface, with the reason it is or is not possible."""

    possible: bool
    reason: str

    def __str__(self) -> str:
        return f"{'possible' if self.possible else 'not possible'}: {self.reason}"


@dataclass(frozen=True)
class HandshakeCheck:
    """The outcome of one real mTLS handshake on loopback."""

    ok: bool
    detail: str

    @classmethod
    def from_result(cls, result: HandshakeResult) -> HandshakeCheck:
        """Judge a handshake result: both sides must succeed and the server must hold the client's certificate."""
        if not result.ok:
            return cls(False, "; ".join(str(result).splitlines()))
        if result.server.peer_certificate is None:
            return cls(False, f"{result.client.tls_version} completed, but the client sent no certificate")
        return cls(True, f"{result.client.tls_version}, each side verified the other's certificate")

    def __str__(self) -> str:
        return f"{'OK' if self.ok else 'FAILED'}: {self.detail}"


@dataclass(frozen=True)
class EnvironmentReport:
    """The readiness of this machine for the course, as found by :func:`check_environment`.

    ``packages`` maps each package name to its installed version, or None when it is
    not installed.
    """

    operating_system: str
    python_version: str
    python_executable: str
    packages: dict[str, str | None]
    ssl_library: str
    openssl: Command
    tshark: Command
    live_capture: CaptureCheck
    handshake: HandshakeCheck

    @property
    def problems(self) -> list[str]:
        """Problems that stop the course from running on this machine, empty when there are none."""
        found = []
        if _version_tuple(self.python_version) < MINIMUM_PYTHON:
            minimum = ".".join(map(str, MINIMUM_PYTHON))
            found.append(f"Python {self.python_version} is too old: install Python {minimum} or newer")
        for name in REQUIRED_PACKAGES:
            if self.packages.get(name) is None:
                found.append(f"{name} is not installed: run `make install` or `pip install -e .`")
        if not self.handshake.ok:
            found.append(f"the loopback mTLS handshake failed: {self.handshake.detail}")
        return found

    @property
    def limitations(self) -> list[str]:
        """Optional parts that are missing, with what the course does without them."""
        found = []
        if self.packages.get("jupyterlab") is None:
            found.append("jupyterlab is not installed: open the notebooks in another Jupyter front end, "
                         "or run `pip install -e '.[lab]'`")
        if not self.openssl.found:
            found.append("the openssl command is missing: the notebook cells that run `openssl` print a notice "
                         "instead, and the tests that need it are skipped")
        if not self.tshark.found:
            found.append("tshark is missing: open captures in Wireshark instead, or install tshark to read them "
                         "in a terminal")
        if not self.live_capture.possible:
            found.append("live capture is not possible: handshakes are recorded in memory instead, "
                         "which needs no privileges")
        return found

    def rows(self) -> list[tuple[str, str]]:
        """Return the report as (item, result) pairs, in the order the table prints them."""
        rows = [
            ("Operating system", self.operating_system),
            ("Python", f"{self.python_version} ({self.python_executable})"),
        ]
        for name, version in self.packages.items():
            rows.append((name, version or "not installed"))
        rows += [
            ("OpenSSL in Python ssl", self.ssl_library),
            ("openssl command", str(self.openssl)),
            ("tshark command", str(self.tshark)),
            ("live packet capture", str(self.live_capture)),
            ("loopback mTLS handshake", str(self.handshake)),
        ]
        return rows

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(item) for item, _ in rows)
        lines = [f"{'Item':<{width}}  Result", f"{'-' * width}  {'-' * 6}"]
        lines += [f"{item:<{width}}  {result}" for item, result in rows]
        lines.append("")
        lines += _bulleted("Problems", self.problems)
        lines += _bulleted("Limitations", self.limitations)
        return "\n".join(lines)


def check_environment() -> EnvironmentReport:
    """Check versions, tools, live capture and a loopback mTLS handshake, and return the report."""
    return EnvironmentReport(
        operating_system=platform.platform(),
        python_version=platform.python_version(),
        python_executable=sys.executable,
        packages=package_versions(REQUIRED_PACKAGES + OPTIONAL_PACKAGES),
        ssl_library=ssl.OPENSSL_VERSION,
        openssl=find_command("openssl", version_arguments=("version",)),
        tshark=find_command("tshark"),
        live_capture=check_live_capture(),
        handshake=check_handshake(),
    )


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Return the installed version of each package, or None for a package that is not installed.

    The versions come from the installed distributions' metadata, so no package is imported.
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def find_command(name: str, version_arguments: tuple[str, ...] | None = None) -> Command:
    """Find ``name`` on PATH and, with ``version_arguments``, run it to read its version.

    The version is the first line the command prints, or None when the command fails.
    """
    path = shutil.which(name)
    if path is None or version_arguments is None:
        return Command(name, path)
    try:
        completed = subprocess.run(
            [path, *version_arguments], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return Command(name, path)
    lines = completed.stdout.strip().splitlines()
    version = lines[0] if completed.returncode == 0 and lines else None
    return Command(name, path, version)


def check_live_capture(status_path: Path = PROC_STATUS) -> CaptureCheck:
    """Find out whether scapy can capture on the loopback interface, and why not when it cannot.

    On Linux the process first needs CAP_NET_RAW in its effective set, which is read
    from ``status_path``. Root in a container may lack it. Then scapy must open a
    capture socket on the loopback interface. The socket is closed at once, before any
    packet is read.
    """
    missing = _missing_capture_capability(status_path)
    if missing is not None:
        return CaptureCheck(False, missing)

    try:
        interface = _scapy_configuration().loopback_name
    except ImportError as error:
        return CaptureCheck(False, f"scapy cannot be imported: {error}")

    failure = _probe_capture_socket(interface)
    if failure is not None:
        return CaptureCheck(False, failure)
    return CaptureCheck(True, f"scapy opened a capture socket on the loopback interface {interface}")


def check_handshake() -> HandshakeCheck:
    """Run one mTLS handshake on loopback with a fresh CA, server and client certificate."""
    authority = CertificateAuthority.create_root("mtlslab Environment Check CA")
    server = authority.issue_server("localhost")
    client = authority.issue_client("environment-check")
    result = run_handshake(server_context(server, authority), client_context(authority, client))
    return HandshakeCheck.from_result(result)


def _missing_capture_capability(status_path: Path) -> str | None:
    """Return why the process may not open a raw socket, or None when it may or the OS has no such check."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        status = status_path.read_text()
    except OSError:
        return None
    effective = _effective_capabilities(status)
    if effective is None or effective & (1 << CAP_NET_RAW):
        return None

    privilege = "the process runs as root" if os.geteuid() == 0 else "the process does not run as root"
    return (
        f"{privilege} and lacks CAP_NET_RAW (bit {CAP_NET_RAW} of CapEff in {status_path} is 0), "
        "so it cannot open a raw packet socket"
    )


def _effective_capabilities(status: str) -> int | None:
    """Return the CapEff bit mask from the text of /proc/PID/status, or None when it is absent."""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key == "CapEff":
            try:
                return int(value.strip(), 16)
            except ValueError:
                return None
    return None


def _probe_capture_socket(interface: str) -> str | None:
    """Open and close a scapy capture socket on ``interface``, and return why it failed or None.

    :func:`check_live_capture` probes only the loopback interface. The socket is not put
    in promiscuous mode, and no packet is read from it.
    """
    try:
        conf = _scapy_configuration()
    except ImportError as error:
        return f"scapy cannot be imported: {error}"
    from scapy.error import Scapy_Exception

    try:
        with quiet_scapy():
            capture = conf.L2listen(iface=interface, promisc=False)
    except (OSError, ValueError, Scapy_Exception) as error:
        return f"scapy could not open a capture socket on {interface}: {type(error).__name__}: {error}"
    capture.close()
    return None


def _scapy_configuration():
    """Import scapy's platform layer, which sets ``conf.L2listen`` and ``conf.loopback_name``, and return ``conf``.

    Importing ``scapy.arch`` alone takes a fraction of the time that ``scapy.all`` takes.
    """
    with quiet_scapy():
        from scapy.config import conf
        import scapy.arch  # noqa: F401

    return conf


@contextlib.contextmanager
def quiet_scapy():
    """Hide scapy's warnings, such as the link type it guesses for the loopback interface."""
    logger = logging.getLogger("scapy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _bulleted(title: str, items: list[str]) -> list[str]:
    if not items:
        return [f"{title}: none"]
    return [f"{title}:", *(f"  - {item}" for item in items)]


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(character for character in part if character.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)
