"""Read and write packet capture files: classic pcap and pcapng.

The reader understands what tcpdump, tshark, dumpcap and scapy write: pcap in either
byte order with microsecond or nanosecond timestamps, and pcapng with Enhanced, Simple
and obsolete Packet Blocks. The writer produces classic pcap with microsecond
timestamps, which every version of Wireshark and tshark opens.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mtlslab.errors import InputError
from mtlslab.pki.files import write_file

LINKTYPE_ETHERNET = 1

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SECTION = b"\x0a\x0d\x0d\x0a"
# A captured packet larger than this is a sign of a damaged file, not a real packet.
_MAX_PACKET = 256 * 1024


@dataclass
class Frame:
    """One captured packet: its 1-based number in the file, time in seconds since the epoch, link type and bytes."""

    number: int
    time: float
    linktype: int
    data: bytes


@dataclass
class Capture:
    """The packets of a capture file and what was wrong with the file, if anything."""

    frames: list[Frame] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_capture(path: str | os.PathLike) -> Capture:
    """Read a pcap or pcapng file; raise InputError when it is missing, empty or not a capture."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such capture file; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory: pass the capture file inside it") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make the capture readable") from None
    return parse_capture(data, str(path))


def parse_capture(data: bytes, source: str = "capture") -> Capture:
    """Parse the bytes of a pcap or pcapng file."""
    if not data:
        raise InputError(f"{source} is empty: it contains no packets; capture again with tcpdump -w or tshark -w")
    if data[:4] in _PCAP_MAGIC:
        return _parse_pcap(data, source)
    if data[:4] == _PCAPNG_SECTION:
        return _parse_pcapng(data, source)
    raise InputError(
        f"{source} is not a pcap or pcapng file (it starts with {data[:4].hex()}): "
        "pass a capture written by tcpdump -w, tshark -w or Wireshark"
    )


def _parse_pcap(data: bytes, source: str) -> Capture:
    endian, resolution = _PCAP_MAGIC[data[:4]]
    if len(data) < 24:
        raise InputError(f"{source} is truncated: the pcap file header is incomplete")
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    capture = Capture()
    offset = 24
    record = struct.Struct(endian + "IIII")
    while offset < len(data):
        number = len(capture.frames) + 1
        if len(data) - offset < 16:
            capture.problems.append(f"the file is truncated inside the header of packet {number}")
            break
        seconds, fraction, captured, original = record.unpack_from(data, offset)
        if captured > _MAX_PACKET:
            capture.problems.append(f"packet {number} claims {captured} bytes: the file is damaged from there on")
            break
        if len(data) - offset - 16 < captured:
            capture.problems.append(f"the file is truncated inside packet {number}")
            break
        packet = data[offset + 16 : offset + 16 + captured]
        capture.frames.append(Frame(number, seconds + fraction * resolution, linktype, packet))
        if captured < original:
            capture.problems.append(f"packet {number} was cut to {captured} of {original} bytes (capture snap length)")
        offset += 16 + captured
    return capture


def _parse_pcapng(data: bytes, source: str) -> Capture:
    capture = Capture()
    interfaces: list[tuple[int, float]] = []
    endian = "<"
    offset = 0
    while offset < len(data):
        if len(data) - offset < 12:
            capture.problems.append("the file is truncated inside a block header")
            break
        block_type = data[offset : offset + 4]
        if block_type == _PCAPNG_SECTION:
            magic = data[offset + 8 : offset + 12]
            endian = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
            if magic not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                capture.problems.append(f"a section header at byte {offset} has an invalid byte-order magic")
                break
            interfaces = []
        block_type, length = struct.unpack_from(endian + "II", data, offset)
        if length < 12 or length % 4 or offset + length > len(data):
            capture.problems.append(f"the file is truncated or damaged in the block at byte {offset}")
            break
        body = data[offset + 8 : offset + length - 4]
        try:
            _read_pcapng_block(block_type, body, endian, interfaces, capture)
        except (struct.error, IndexError):
            capture.problems.append(f"the block at byte {offset} is damaged and was skipped")
        offset += length
    if not capture.frames and not capture.problems and not interfaces:
        raise InputError(f"{source} is not a usable pcapng file: it has no interface and no packet")
    return capture


def _read_pcapng_block(block_type: int, body: bytes, endian: str, interfaces: list, capture: Capture) -> None:
    number = len(capture.frames) + 1
    if block_type == 1:  # Interface Description Block
        linktype = struct.unpack_from(endian + "H", body, 0)[0]
        interfaces.append((linktype, _timestamp_resolution(body[8:], endian)))
    elif block_type == 6:  # Enhanced Packet Block
        interface, high, low, captured, original = struct.unpack_from(endian + "IIIII", body, 0)
        linktype, resolution = interfaces[interface]
        packet = body[20 : 20 + captured]
        capture.frames.append(Frame(number, ((high << 32) | low) * resolution, linktype, packet))
        if captured < original:
            capture.problems.append(f"packet {number} was cut to {captured} of {original} bytes (capture snap length)")
    elif block_type == 3:  # Simple Packet Block: no timestamp
        original = struct.unpack_from(endian + "I", body, 0)[0]
        linktype, _ = interfaces[0]
        capture.frames.append(Frame(number, 0.0, linktype, body[4 : 4 + original]))
    elif block_type == 2:  # obsolete Packet Block
        interface, _drops, high, low, captured, _original = struct.unpack_from(endian + "HHIIII", body, 0)
        linktype, resolution = interfaces[interface]
        capture.frames.append(Frame(number, ((high << 32) | low) * resolution, linktype, body[20 : 20 + captured]))


def _timestamp_resolution(options: bytes, endian: str) -> float:
    """Read if_tsresol from an Interface Description Block's options; the default is microseconds."""
    offset = 0
    while offset + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, offset)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[offset + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0**-value
        offset += 4 + length + (-length % 4)
    return 1e-6


def capture_bytes(frames: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET) -> bytes:
    """Encode (time, packet) pairs as a classic pcap file with microsecond timestamps."""
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for time, packet in frames:
        microseconds = round(time * 1e6)
        seconds, fraction = divmod(microseconds, 1_000_000)
        parts.append(struct.pack("<IIII", seconds, fraction, len(packet), len(packet)))
        parts.append(packet)
    return b"".join(parts)


def write_capture(path: str | os.PathLike, frames: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET) -> Path:
    """Write (time, packet) pairs to ``path`` as a classic pcap file."""
    return write_file(path, capture_bytes(frames, linktype))
