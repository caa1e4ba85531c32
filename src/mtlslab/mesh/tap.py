"""A wire tap on loopback: what a packet capture between two pods would show.

A :class:`WireTap` listens on 127.0.0.1 on a port the system assigns and forwards each
connection to one target port, as the pod network carries a connection from one pod
to another. On the way it keeps the bytes the client sent, so a learner can check
what an observer on that network could read: TLS records after an mTLS handshake, or
a readable HTTP request from a client without a sidecar.

When the target resets the connection, the tap resets the client's connection too
(SO_LINGER with a zero timeout), so the client sees what it would see without the tap.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from dataclasses import dataclass

from mtlslab.mesh.listener import LoopbackStreamServer
from mtlslab.mesh.proof import tls_record_types

# The tap keeps at most this many bytes per connection. One request of the simulator,
# handshake included, is a few kilobytes.
MAX_CAPTURED_BYTES = 65536


@dataclass(frozen=True)
class TappedConnection:
    """The bytes that a client sent on one connection through the tap, in order."""

    sent: bytes

    @property
    def record_types(self) -> list[str]:
        """Name the TLS records at the start of the bytes, as a capture shows them, or none for plaintext."""
        return tls_record_types(self.sent)


class WireTap(LoopbackStreamServer):
    """Forward connections from 127.0.0.1:``port`` to 127.0.0.1:``target_port`` and keep what clients send."""

    description = "the wire tap"

    def __init__(self, target_port: int, *, timeout: float = 5.0):
        super().__init__(timeout=timeout)
        self.connections: asyncio.Queue[TappedConnection] = asyncio.Queue()
        self._target_port = target_port

    async def next_connection(self) -> TappedConnection:
        """Wait up to the timeout for the next connection to end, and return what its client sent."""
        return await asyncio.wait_for(self.connections.get(), self.timeout)

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = self._track()
        sent = bytearray()
        try:
            await self._forward(client_reader, client_writer, sent)
        except asyncio.CancelledError:
            # Python 3.11's start_server logs a cancelled connection task as an error; a
            # cancelled connection here only means the tap is shutting down.
            client_writer.close()
        finally:
            self._handlers.discard(task)
            await self.connections.put(TappedConnection(bytes(sent)))

    async def _forward(self, client_reader, client_writer, sent: bytearray) -> None:
        try:
            target_reader, target_writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self._target_port), self.timeout
            )
        except (OSError, asyncio.TimeoutError):
            _reset(client_writer)
            return
        # The copy towards the target records each chunk before it forwards it, so once
        # the target has responded, everything the client sent before is in ``sent``.
        to_target = asyncio.create_task(_copy(client_reader, target_writer, sent))
        try:
            await asyncio.wait_for(_copy(target_reader, client_writer), self.timeout)
        except ConnectionResetError:
            _reset(client_writer)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            pass
        finally:
            to_target.cancel()
            await asyncio.gather(to_target, return_exceptions=True)
            target_writer.close()
            client_writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: bytearray | None = None) -> None:
    while chunk := await reader.read(65536):
        if record is not None:
            record.extend(chunk[: MAX_CAPTURED_BYTES - len(record)])
        writer.write(chunk)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP RST instead of a FIN, as the target did."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
