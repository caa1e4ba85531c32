"""The benchmark suite: plaintext against TLS against mTLS, key types, chain length, resumption.

Every scenario runs on this machine in one process, so the numbers compare with each
other; they say little about another machine. Each figure is a median over many
handshakes with its quartiles, never a single run.
"""

from __future__ import annotations

import platform
import ssl
from dataclasses import dataclass

from mtlslab.bench import loopback
from mtlslab.bench.floor import time_operations
from mtlslab.bench.memory import memory_handshake
from mtlslab.bench.stats import spread
from mtlslab.errors import InputError
from mtlslab.pki import CertificateAuthority, client_context, server_context
from mtlslab.pki.keys import key_type_of

KEY_TYPES = ("ecdsa-p256", "rsa2048", "rsa3072", "rsa4096", "ed25519")


@dataclass(frozen=True)
class Scenario:
    """One configuration to measure: mutual or server-only TLS, version, key type and chain length."""

    mutual: bool = True
    tls_version: str = "1.3"
    key_type: str = "ecdsa-p256"
    intermediates: int = 1
    resumption: bool = False

    @property
    def name(self) -> str:
        parts = ["mtls" if self.mutual else "tls", self.tls_version, self.key_type, f"{self.intermediates}int"]
        if self.resumption:
            parts.append("resumed")
        return " ".join(parts)


@dataclass(frozen=True)
class Sizes:
    """How much work each part of the suite does; ``QUICK`` exists for tests."""

    handshakes: int = 200
    connections: int = 200
    requests: int = 500
    bulk_megabytes: int = 16
    bulk_rounds: int = 5
    operation_repeats: int = 100


QUICK = Sizes(handshakes=3, connections=3, requests=3, bulk_megabytes=1, bulk_rounds=2, operation_repeats=3)


def scenarios() -> list[Scenario]:
    """Return the in-memory scenarios: modes and versions, key types, chain lengths and resumption."""
    chosen = [
        Scenario(mutual=False, tls_version="1.3"),
        Scenario(mutual=True, tls_version="1.3"),
        Scenario(mutual=False, tls_version="1.2"),
        Scenario(mutual=True, tls_version="1.2"),
    ]
    chosen += [Scenario(key_type=key_type) for key_type in KEY_TYPES if key_type != "ecdsa-p256"]
    chosen += [Scenario(intermediates=count) for count in (0, 2)]
    chosen.append(Scenario(resumption=True))
    return chosen


def contexts_for(scenario: Scenario, *, private_key=None) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Build a fresh PKI for ``scenario`` and return its (server, client) contexts.

    With ``private_key`` every certificate of the PKI carries that one key, so building
    the PKI generates no key (an RSA 4096 key can take more than a second to generate).
    A handshake costs the same as with separate keys, because its work depends only on
    the key type and size. Never share one key between certificates in a real PKI.
    """
    if private_key is not None and key_type_of(private_key) != scenario.key_type:
        raise InputError(
            f"private_key is of type {key_type_of(private_key)}, but the scenario uses {scenario.key_type}: "
            "pass a key of the scenario's key type"
        )
    keys = {"key_type": scenario.key_type, "private_key": private_key}
    issuer = CertificateAuthority.create_root(**keys)
    root = issuer
    for level in range(scenario.intermediates):
        remaining = scenario.intermediates - level - 1
        issuer = issuer.create_intermediate(f"Intermediate {level + 1}", path_length=remaining, **keys)

    server = issuer.issue_server(**keys)
    if not scenario.mutual:
        return (
            server_context(server, require_client_certificate=False, tls_version=scenario.tls_version),
            client_context(root, tls_version=scenario.tls_version),
        )
    client = issuer.issue_client(**keys)
    return (
        server_context(server, root, tls_version=scenario.tls_version),
        client_context(root, client, tls_version=scenario.tls_version),
    )


def measure_scenario(scenario: Scenario, count: int, *, private_key=None) -> dict:
    """Run ``count`` in-memory handshakes of ``scenario`` and summarize CPU time and bytes per handshake.

    ``private_key`` is passed to :func:`contexts_for`.
    """
    server, client = contexts_for(scenario, private_key=private_key)
    session = None
    if scenario.resumption:
        _, session = memory_handshake(client, server)

    samples = []
    for _ in range(count):
        sample, new_session = memory_handshake(client, server, session=session)
        if scenario.resumption:
            if not sample.resumed:
                raise RuntimeError(f"{scenario.name}: the session was not resumed")
            session = new_session
        samples.append(sample)

    server_seconds = spread([sample.server_seconds for sample in samples])
    return {
        "scenario": scenario.name,
        "mutual": scenario.mutual,
        "tls_version": scenario.tls_version,
        "key_type": scenario.key_type,
        "intermediates": scenario.intermediates,
        "resumption": scenario.resumption,
        "client_seconds": spread([sample.client_seconds for sample in samples]),
        "server_seconds": server_seconds,
        "server_handshakes_per_second_per_core": 1.0 / server_seconds["median"],
        "handshake_bytes": spread([float(sample.handshake_bytes) for sample in samples]),
    }


LOOPBACK_MODES = ("plaintext", "tls", "mtls")
# New connections are timed in this many batches per mode, interleaved across the modes.
LATENCY_BATCHES = 5


def measure_loopback(sizes: Sizes) -> list[dict]:
    """Measure plaintext, TLS and mTLS over loopback sockets: new connections, reused ones, bulk upload.

    New-connection batches and bulk uploads run in interleaved rounds (plaintext, tls, mtls, then the
    next round), and each round starts one mode later than the round before. A machine that speeds
    up or slows down during the run (frequency scaling, other processes) then affects every mode
    alike instead of only the mode measured last.
    """
    pairs = {"plaintext": (None, None)}
    for mode in LOOPBACK_MODES[1:]:
        pairs[mode] = contexts_for(Scenario(mutual=mode == "mtls"))

    new_connection: dict[str, list[float]] = {mode: [] for mode in LOOPBACK_MODES}
    for number, batch in enumerate(_batches(sizes.connections, LATENCY_BATCHES)):
        for mode in _round_order(number):
            new_connection[mode] += loopback.new_connection_latencies(*pairs[mode], batch)

    bulk: dict[str, list[float]] = {mode: [] for mode in LOOPBACK_MODES}
    for number in range(sizes.bulk_rounds):
        for mode in _round_order(number):
            bulk[mode].append(loopback.bulk_throughput(*pairs[mode], sizes.bulk_megabytes))

    return [
        {
            "mode": mode,
            "new_connection_seconds": spread(new_connection[mode]),
            "reused_request_seconds": spread(loopback.reused_connection_latencies(*pairs[mode], sizes.requests)),
            "bulk_mib_per_second": spread(bulk[mode]),
        }
        for mode in LOOPBACK_MODES
    ]


def _round_order(number: int) -> tuple[str, ...]:
    """Return the modes in the order of round ``number``: rotated by one mode per round."""
    shift = number % len(LOOPBACK_MODES)
    return LOOPBACK_MODES[shift:] + LOOPBACK_MODES[:shift]


def _batches(total: int, count: int) -> list[int]:
    """Split ``total`` into at most ``count`` batch sizes that differ by at most one and add up to ``total``."""
    count = max(1, min(count, total))
    size, extra = divmod(total, count)
    return [size + 1 if index < extra else size for index in range(count)]


def measure_floor(
    handshake_results: list[dict], sizes: Sizes, *, private_keys: dict | None = None
) -> tuple[list[dict], list[dict]]:
    """Compare each full TLS 1.3 handshake with the time its public-key operations take alone.

    Return the comparison rows and the operation times per key type. ``private_keys``
    maps key types to existing keys to time; the others get a new key.
    """
    private_keys = private_keys or {}
    times = {
        key_type: time_operations(key_type, sizes.operation_repeats, private_key=private_keys.get(key_type))
        for key_type in KEY_TYPES
    }
    rows = []
    for result in handshake_results:
        if result["tls_version"] != "1.3" or result["resumption"]:
            continue
        operations = times[result["key_type"]]
        floor = operations.handshake_floor(result["mutual"], result["intermediates"])
        measured_server = result["server_seconds"]["median"]
        measured_client = result["client_seconds"]["median"]
        rows.append(
            {
                "scenario": result["scenario"],
                "floor_server_seconds": floor["server"],
                "floor_client_seconds": floor["client"],
                "measured_server_seconds": measured_server,
                "measured_client_seconds": measured_client,
                "server_share_cryptography": floor["server"] / measured_server,
                "client_share_cryptography": floor["client"] / measured_client,
            }
        )
    operations = [
        {"key_type": key_type, "sign_seconds": value.sign, "verify_seconds": value.verify, "x25519_seconds": value.key_exchange}
        for key_type, value in times.items()
    ]
    return rows, operations


def run_suite(sizes: Sizes = Sizes()) -> dict:
    """Run every measurement and return the report as a JSON-ready dictionary."""
    handshakes = [measure_scenario(scenario, sizes.handshakes) for scenario in scenarios()]
    floor, operations = measure_floor(handshakes, sizes)
    return {
        "machine": machine_description(),
        "sizes": sizes.__dict__,
        "handshakes": handshakes,
        "loopback": measure_loopback(sizes),
        "cryptographic_floor": floor,
        "operations": operations,
    }


def machine_description() -> dict:
    """Describe the machine and software the numbers were measured on."""
    import os

    return {
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "system": platform.platform(),
    }
