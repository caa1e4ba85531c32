"""TCP connections: reassemble captured segments into byte streams, and build segments from bytes.

Reassembly orders segments by sequence number, drops retransmitted bytes, and stops a
stream at the first gap (bytes the capture missed), because TLS records after a gap cannot
be framed. Building turns a list of flights into a complete TCP connection (three-way
handshake, data segments of at most one MSS with their acknowledgments, FIN teardown)
that Wireshark's "Follow TCP Stream" reads like a real one.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mtlslab.packets import ACK, FIN, PSH, RST, SYN, Endpoint, NotTcp, Segment, build_frame, decode_segment
from mtlslab.tls.wire import looks_like_tls

_HALF = 2**31
_MODULUS = 2**32


@dataclass
class Stream:
    """The bytes one side sent, with the frame and time at which each stretch of them arrived."""

    data: bytes = b""
    offsets: list[int] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    retransmissions: int = 0
    fin: bool = False
    reset: bool = False

    def locate(self, offset: int) -> tuple[int | None, float | None]:
        """Return the frame number and time of the packet that carried the byte at ``offset``."""
        index = bisect.bisect_right(self.offsets, offset) - 1
        if index < 0:
            return None, None
        return self.frames[index], self.times[index]


@dataclass
class TcpConnection:
    """One TCP connection in a capture, with the stream each side sent."""

    client: Endpoint
    server: Endpoint
    segments: list[Segment] = field(default_factory=list, repr=False)
    client_stream: Stream = field(default_factory=Stream)
    server_stream: Stream = field(default_factory=Stream)
    syn_seen: bool = False

    @property
    def first_frame(self) -> int:
        return self.segments[0].frame if self.segments else 0

    def stream_of(self, sender: str) -> Stream:
        return self.client_stream if sender == "client" else self.server_stream


def reassemble(frames: Iterable) -> tuple[list[TcpConnection], list[str]]:
    """Group the TCP segments of captured frames into connections and reassemble both streams.

    Returns the connections in order of their first frame, and notes about frames that
    could not be used (IP fragments, unsupported link types).
    """
    notes: list[str] = []
    active: dict[tuple[Endpoint, Endpoint], TcpConnection] = {}
    connections: list[TcpConnection] = []
    for frame in frames:
        try:
            segment = decode_segment(frame)
        except NotTcp as reason:
            if str(reason) and str(reason) not in notes:
                notes.append(str(reason))
            continue
        key = tuple(sorted((segment.source, segment.destination)))
        connection = active.get(key)
        opening = segment.flags & (SYN | ACK) == SYN
        if connection is None or (opening and _is_new_connection(connection, segment)):
            connection = TcpConnection(client=segment.source, server=segment.destination)
            active[key] = connection
            connections.append(connection)
        connection.segments.append(segment)

    for connection in connections:
        _orient(connection)
        connection.client_stream = _assemble([s for s in connection.segments if s.source == connection.client])
        connection.server_stream = _assemble([s for s in connection.segments if s.source == connection.server])
        if _starts_with_client_hello(connection.server_stream.data) and not connection.syn_seen:
            connection.client, connection.server = connection.server, connection.client
            connection.client_stream, connection.server_stream = connection.server_stream, connection.client_stream
    return connections, notes


def _is_new_connection(connection: TcpConnection, segment: Segment) -> bool:
    """True when a SYN starts a new connection on a reused address pair rather than repeating the first SYN."""
    finished = {earlier.source for earlier in connection.segments if earlier.flags & FIN}
    if len(finished) == 2 or any(earlier.flags & RST for earlier in connection.segments):
        return True
    for earlier in connection.segments:
        if earlier.flags & (SYN | ACK) == SYN and earlier.source == segment.source:
            return earlier.sequence != segment.sequence
    return any(earlier.payload for earlier in connection.segments)


def _orient(connection: TcpConnection) -> None:
    """Make the side that sent the SYN the client; without a SYN keep the first sender."""
    for segment in connection.segments:
        if segment.flags & SYN:
            connection.syn_seen = True
            if segment.flags & ACK:
                connection.client, connection.server = segment.destination, segment.source
            else:
                connection.client, connection.server = segment.source, segment.destination
            return


def _starts_with_client_hello(data: bytes) -> bool:
    return looks_like_tls(data) and data[0] == 22 and len(data) > 5 and data[5] == 1


def _assemble(segments: Sequence[Segment]) -> Stream:
    stream = Stream()
    if not segments:
        return stream
    syn = next((s for s in segments if s.flags & SYN), None)
    reference = segments[0].sequence

    def relative(sequence: int) -> int:
        value = (sequence - reference) % _MODULUS
        return value - _MODULUS if value >= _HALF else value

    if syn is not None:
        base = relative(syn.sequence) + 1
    else:
        base = min(relative(s.sequence) for s in segments if s.payload) if any(s.payload for s in segments) else 0

    pieces = []
    expected = 0
    ordered = sorted((relative(s.sequence) - base, s.frame, s) for s in segments if s.payload)
    for start, _, segment in ordered:
        end = start + len(segment.payload)
        if end <= expected:
            stream.retransmissions += 1
            continue
        if start > expected:
            stream.problems.append(
                f"{start - expected} bytes are missing before frame {segment.frame}: the capture lost them, "
                "so the rest of this stream is not read"
            )
            break
        if start < expected:
            stream.retransmissions += 1
        stream.offsets.append(expected)
        stream.frames.append(segment.frame)
        stream.times.append(segment.time)
        pieces.append(segment.payload[expected - start :])
        expected = end
    stream.data = b"".join(pieces)
    stream.fin = any(s.flags & FIN for s in segments)
    stream.reset = any(s.flags & RST for s in segments)
    return stream


@dataclass(frozen=True)
class Flight:
    """Bytes one side wrote in one go: sender (``client`` or ``server``), time in seconds since the epoch, data."""

    sender: str
    time: float
    data: bytes

    @property
    def direction(self) -> str:
        return "client -> server" if self.sender == "client" else "server -> client"


# Loopback interfaces allow 64 KiB segments; 1460 bytes (an Ethernet MSS) makes a certificate
# chain span several segments, as it does on a real network.
DEFAULT_MSS = 1460
_STEP = 1e-5  # seconds between a segment and the acknowledgment the kit adds after it


def build_connection(
    flights: Sequence[Flight],
    client: Endpoint,
    server: Endpoint,
    *,
    mss: int = DEFAULT_MSS,
    closer: str = "client",
    start_time: float | None = None,
    rng: random.Random | None = None,
) -> list[tuple[float, bytes]]:
    """Wrap flights in a TCP connection and return (time, Ethernet frame) pairs.

    The connection opens with SYN, SYN-ACK and ACK, carries each flight in segments of at
    most ``mss`` bytes followed by the receiver's ACK, and closes with a FIN from
    ``closer``, the FIN of the other side and a last ACK.
    """
    rng = rng or random.Random()
    sequence = {"client": rng.getrandbits(32), "server": rng.getrandbits(32)}
    address = {"client": client, "server": server}
    other = {"client": "server", "server": "client"}
    frames: list[tuple[float, bytes]] = []
    if start_time is not None:
        clock = start_time
    elif flights:
        clock = flights[0].time - 3 * _STEP
    else:
        clock = 0.0
    identification = rng.getrandbits(16)

    def emit(sender: str, flags: int, payload: bytes = b"", at: float | None = None, mss_option=None) -> None:
        nonlocal clock, identification
        clock = max(clock + _STEP, at if at is not None else 0.0)
        acknowledgment = sequence[other[sender]] if flags & ACK else 0
        frame = build_frame(
            address[sender],
            address[other[sender]],
            sequence[sender],
            acknowledgment,
            flags,
            payload,
            identification=identification,
            mss=mss_option,
        )
        identification += 1
        frames.append((clock, frame))
        sequence[sender] = (sequence[sender] + len(payload) + (1 if flags & (SYN | FIN) else 0)) % _MODULUS

    emit("client", SYN, mss_option=mss, at=clock)
    emit("server", SYN | ACK, mss_option=mss)
    emit("client", ACK)
    for flight in flights:
        data = flight.data
        for start in range(0, len(data), mss):
            chunk = data[start : start + mss]
            last = start + mss >= len(data)
            emit(flight.sender, ACK | (PSH if last else 0), chunk, at=flight.time)
        emit(other[flight.sender], ACK)
    emit(closer, FIN | ACK)
    emit(other[closer], FIN | ACK)
    emit(closer, ACK)
    return frames
