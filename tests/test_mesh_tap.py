"""The wire tap shows TLS records between sidecars and readable HTTP from a client without one."""

from __future__ import annotations

import asyncio
import socket

import pytest

from mtlslab.mesh.proxy import ALLOWED, REJECTED_BY_MODE
from mtlslab.mesh.simulator import run_simulation
from mtlslab.mesh.tap import TappedConnection, WireTap

PLAN = [("frontend", "api"), ("legacy", "frontend")]


@pytest.fixture(scope="module")
def strict():
    return run_simulation("STRICT", plan=PLAN, capture=True)


@pytest.fixture(scope="module")
def permissive():
    return run_simulation("PERMISSIVE", plan=PLAN, capture=True)


def test_mtls_request_starts_with_handshake_record(strict):
    assert strict.results[0].record_types[0] == "handshake (22)"


def test_mtls_request_ends_in_application_data(strict):
    assert strict.results[0].record_types[-1] == "application_data (23)"


def test_mtls_request_hides_http(strict):
    assert b"GET /" not in strict.results[0].sent_bytes


def test_mtls_request_still_allowed_through_tap(strict):
    assert strict.results[0].outcome == ALLOWED
    assert strict.results[0].response == "HTTP/1.1 200 OK"


def test_plaintext_request_is_readable(strict):
    assert strict.results[1].sent_bytes.startswith(b"GET / HTTP/1.1\r\nHost: frontend\r\n")
    assert strict.results[1].record_types == []


def test_strict_reset_reaches_client_through_tap(strict):
    assert strict.results[1].outcome == REJECTED_BY_MODE
    assert strict.results[1].response == "connection reset"


def test_permissive_plaintext_passes_tap(permissive):
    assert permissive.results[1].outcome == ALLOWED
    assert permissive.results[1].response == "HTTP/1.1 200 OK"
    assert permissive.results[1].sent_bytes.startswith(b"GET / ")


def test_without_capture_no_bytes():
    report = run_simulation("STRICT", plan=[("frontend", "api")])
    assert report.results[0].sent_bytes is None
    assert report.results[0].record_types == []


def test_tapped_record_types():
    tapped = TappedConnection(bytes([22, 3, 1, 0, 1, 1]) + b"GET")
    assert tapped.record_types == ["handshake (22)"]


def test_unreachable_target_resets_client():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        closed_port = placeholder.getsockname()[1]

    async def scenario():
        tap = WireTap(closed_port, timeout=2.0)
        await tap.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", tap.port)
            try:
                writer.write(b"GET / HTTP/1.1\r\n\r\n")
                data = await asyncio.wait_for(reader.read(100), 2.0)
            except ConnectionError:  # a reset, or a broken pipe when the reset came before the write
                data = None
            writer.close()
            return data, await tap.next_connection()
        finally:
            await tap.close()

    data, tapped = asyncio.run(scenario())
    assert data is None
    assert tapped.sent == b""
