"""The loopback server's bulk upload, whatever way TCP splits the upload into reads."""

from __future__ import annotations

import socket

import pytest

from mtlslab.bench import loopback


@pytest.mark.parametrize("payload", [b"", b"x" * 10, b"no spaces\x00" * 1000])
def test_bulk_header_and_payload_in_one_send(payload):
    with loopback.EchoServer(None) as server, socket.create_connection((loopback.LOOPBACK, server.port), timeout=5) as stream:
        stream.sendall(f"BULK {len(payload)}\n".encode() + payload)
        assert stream.recv(16) == b"done"


def test_bulk_waits_for_the_whole_upload():
    with loopback.EchoServer(None) as server, socket.create_connection((loopback.LOOPBACK, server.port), timeout=1) as stream:
        stream.sendall(b"BULK 10\nxxxxx")
        with pytest.raises(TimeoutError):
            stream.recv(16)
