"""The loopback mesh: STRICT and PERMISSIVE inbound proxies, identity policy, and a legacy plaintext client."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mtlslab.errors import InputError
from mtlslab.mesh.netns import namespaces_unavailable_reason
from mtlslab.mesh.proof import tls_record_types
from mtlslab.mesh.proxy import ALLOWED, HANDSHAKE_FAILED, REJECTED_BY_MODE, REJECTED_BY_POLICY
from mtlslab.mesh.simulator import MeshSimulator, run_simulation

FRONTEND = "spiffe://cluster.local/ns/demo/sa/frontend"
BATCH = "spiffe://cluster.local/ns/demo/sa/batch"


@pytest.fixture(scope="module")
def strict():
    return run_simulation("STRICT", repeat=2)


@pytest.fixture(scope="module")
def permissive():
    return run_simulation("PERMISSIVE", repeat=2)


def only(report, source, destination):
    return [r for r in report.results if r.source == source and r.destination == destination]


def test_strict_rejects_plaintext_client(strict):
    counts = strict.counts(source="legacy")
    assert counts[REJECTED_BY_MODE] == 4
    assert counts[ALLOWED] == 0
    assert all(r.transport == "plaintext" for r in only(strict, "legacy", "frontend"))
    assert all("200" not in r.response for r in only(strict, "legacy", "frontend"))


def test_strict_rejects_unauthorized_identity(strict):
    results = only(strict, "batch", "api")
    assert [r.outcome for r in results] == [REJECTED_BY_POLICY] * 2
    assert [r.peer_identity for r in results] == [BATCH] * 2
    assert all(r.response == "HTTP/1.1 403 Forbidden" for r in results)


def test_strict_allows_authorized_identity(strict):
    results = only(strict, "frontend", "api")
    assert [r.outcome for r in results] == [ALLOWED] * 2
    assert [r.peer_identity for r in results] == [FRONTEND] * 2
    assert all(r.transport == "mtls" for r in results)
    assert all(r.response == "HTTP/1.1 200 OK" for r in results)


def test_strict_totals(strict):
    counts = strict.counts()
    assert counts[ALLOWED] == 2
    assert counts[REJECTED_BY_MODE] == 4
    assert counts[REJECTED_BY_POLICY] == 2
    assert counts[HANDSHAKE_FAILED] == 0
    assert len(strict.results) == 8


def test_permissive_accepts_plaintext_client(permissive):
    results = only(permissive, "legacy", "frontend")
    assert [r.outcome for r in results] == [ALLOWED] * 2
    assert [r.transport for r in results] == ["plaintext"] * 2
    assert [r.peer_identity for r in results] == [None] * 2
    assert all(r.response == "HTTP/1.1 200 OK" for r in results)


def test_permissive_policy_still_needs_identity(permissive):
    results = only(permissive, "legacy", "api")
    assert [r.outcome for r in results] == [REJECTED_BY_POLICY] * 2
    assert all(r.response == "HTTP/1.1 403 Forbidden" for r in results)


def test_permissive_allows_authorized_identity(permissive):
    results = only(permissive, "frontend", "api")
    assert [r.outcome for r in results] == [ALLOWED] * 2
    assert [r.peer_identity for r in results] == [FRONTEND] * 2


def test_permissive_rejects_unauthorized_identity(permissive):
    assert permissive.counts(source="batch")[REJECTED_BY_POLICY] == 2


def test_permissive_totals(permissive):
    counts = permissive.counts()
    assert counts[ALLOWED] == 4
    assert counts[REJECTED_BY_MODE] == 0
    assert counts[REJECTED_BY_POLICY] == 4


def test_no_policy_allows_any_identity():
    report = run_simulation("STRICT", plan=[("batch", "api")], policies={})
    assert report.counts()[ALLOWED] == 1


def test_tls_client_without_certificate_fails_handshake():
    async def scenario():
        async with MeshSimulator(mode="PERMISSIVE") as mesh:
            context = ssl.create_default_context(cadata=mesh.trust_anchor.public_bytes(Encoding.PEM).decode())
            context.check_hostname = False
            port = mesh.inbound_port("api")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="")
                writer.write(b"GET / HTTP/1.1\r\n\r\n")
                await reader.read(100)
                writer.close()
            except (OSError, ssl.SSLError):
                pass
            return await mesh.next_inbound_event("api")

    event = asyncio.run(scenario())
    assert event.outcome == HANDSHAKE_FAILED
    assert event.transport == "mtls"


def test_unknown_mode_is_rejected():
    with pytest.raises(InputError, match="unknown mTLS mode"):
        run_simulation("OPTIONAL")


def test_unknown_workload_is_rejected():
    with pytest.raises(InputError, match="unknown workload"):
        run_simulation("STRICT", plan=[("frontend", "billing")])


def test_policy_naming_unknown_workload_is_rejected():
    with pytest.raises(InputError, match="policy names unknown workloads"):
        MeshSimulator(policies={"api": ["billing"]})


def test_record_types_of_tls_stream():
    stream = bytes([22, 3, 1, 0, 2, 1, 0]) + bytes([23, 3, 3, 0, 1, 0xAA])
    assert tls_record_types(stream) == ["handshake (22)", "application_data (23)"]


def test_record_types_of_plaintext_http():
    assert tls_record_types(b"GET / HTTP/1.1\r\nHost: api\r\n\r\n") == []


async def app_answers_from_host(port: int) -> bool:
    """Return True when the api app itself answers on ``port`` from the host namespace.

    Ports are per namespace, so another process on this host may listen on the same
    number; only the app's own reply proves that the namespace did not hide it.
    """
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: api\r\n\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(1024), 2)
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()
    return b"hello from api" in reply


@pytest.mark.skipif(namespaces_unavailable_reason() is not None, reason=str(namespaces_unavailable_reason()))
def test_network_namespaces_hide_app_port():
    async def scenario():
        async with MeshSimulator(mode="STRICT", policies={"api": ["frontend"]}, use_network_namespaces=True) as mesh:
            app_port = mesh.app_port("api")
            reachable = await app_answers_from_host(app_port)
            result = await mesh.request("frontend", "api")
            return reachable, result

    try:
        reachable, result = asyncio.run(scenario())
    except OSError as error:  # a sandbox may forbid namespaces even to root
        pytest.skip(f"network namespaces are not usable here: {error}")
    assert not reachable
    assert result.outcome == ALLOWED
