"""Decode and build the link, IP and TCP headers around TLS bytes.

Decoding covers the link types of loopback and LAN captures on Linux, macOS and BSD:
Ethernet (with VLAN tags), BSD loopback, raw IP and Linux cooked captures (SLL and SLL2).
Building writes Ethernet frames with zero MAC addresses, as Linux captures on ``lo`` show
them, around IPv4 and TCP headers with correct checksums.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

Endpoint = tuple[str, int]


@dataclass
class Segment:
    """A TCP segment from a captured frame."""

    frame: int
    time: float
    source: Endpoint
    destination: Endpoint
    sequence: int
    acknowledgment: int
    flags: int
    payload: bytes


class NotTcp(Exception):
    """A frame that carries no TCP segment the reader can use; the message gives the reason when it matters."""


def decode_segment(frame) -> Segment:
    """Return the TCP segment in a captured frame; raise NotTcp for anything else."""
    packet = _network_layer(frame.linktype, frame.data)
    version = packet[0] >> 4 if packet else 0
    if version == 4:
        source, destination, tcp = _ipv4(packet)
    elif version == 6:
        source, destination, tcp = _ipv6(packet)
    else:
        raise NotTcp("")
    if len(tcp) < 20:
        raise NotTcp(f"frame {frame.number} has a truncated TCP header")
    source_port, destination_port, sequence, acknowledgment, offset_flags = struct.unpack_from("!HHIIH", tcp, 0)
    header_length = (offset_flags >> 12) * 4
    if header_length < 20 or header_length > len(tcp):
        raise NotTcp(f"frame {frame.number} has an invalid TCP header length")
    return Segment(
        frame.number,
        frame.time,
        (source, source_port),
        (destination, destination_port),
        sequence,
        acknowledgment,
        offset_flags & 0x3F,
        tcp[header_length:],
    )


def _network_layer(linktype: int, data: bytes) -> bytes:
    if linktype == 1:  # Ethernet
        ethertype = int.from_bytes(data[12:14], "big")
        offset = 14
        while ethertype in (0x8100, 0x88A8) and len(data) >= offset + 4:
            ethertype = int.from_bytes(data[offset + 2 : offset + 4], "big")
            offset += 4
        return data[offset:] if ethertype in (0x0800, 0x86DD) else b""
    if linktype in (0, 108):  # BSD loopback: a 4-byte address family
        return data[4:]
    if linktype in (12, 14, 101, 228, 229):  # raw IP
        return data
    if linktype == 113:  # Linux cooked capture v1
        return data[16:] if int.from_bytes(data[14:16], "big") in (0x0800, 0x86DD) else b""
    if linktype == 276:  # Linux cooked capture v2
        return data[20:] if int.from_bytes(data[0:2], "big") in (0x0800, 0x86DD) else b""
    raise NotTcp(f"link type {linktype} is not supported")


def _ipv4(packet: bytes) -> tuple[str, str, bytes]:
    if len(packet) < 20:
        raise NotTcp("")
    header_length = (packet[0] & 0x0F) * 4
    total_length, fragment, protocol = struct.unpack_from("!H2xHxB", packet, 2)
    if protocol != 6:
        raise NotTcp("")
    if fragment & 0x3FFF:
        raise NotTcp("IP fragments are not reassembled")
    source = socket.inet_ntoa(packet[12:16])
    destination = socket.inet_ntoa(packet[16:20])
    # total_length is 0 when the network card offloads segmentation; use the bytes captured then.
    end = total_length if total_length >= header_length else len(packet)
    return source, destination, packet[header_length:end]


def _ipv6(packet: bytes) -> tuple[str, str, bytes]:
    if len(packet) < 40:
        raise NotTcp("")
    payload_length = int.from_bytes(packet[4:6], "big")
    next_header = packet[6]
    source = socket.inet_ntop(socket.AF_INET6, packet[8:24])
    destination = socket.inet_ntop(socket.AF_INET6, packet[24:40])
    payload = packet[40 : 40 + payload_length] if payload_length else packet[40:]
    while next_header in (0, 43, 60):  # hop-by-hop, routing and destination options headers
        if len(payload) < 8:
            raise NotTcp("")
        next_header, length = payload[0], (payload[1] + 1) * 8
        payload = payload[length:]
    if next_header == 44:
        raise NotTcp("IP fragments are not reassembled")
    if next_header != 6:
        raise NotTcp("")
    return source, destination, payload


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_frame(
    source: Endpoint,
    destination: Endpoint,
    sequence: int,
    acknowledgment: int,
    flags: int,
    payload: bytes = b"",
    *,
    identification: int = 0,
    mss: int | None = None,
) -> bytes:
    """Build an Ethernet frame holding one IPv4 TCP segment; ``mss`` adds the MSS option to a SYN."""
    options = struct.pack("!BBH", 2, 4, mss) if mss is not None else b""
    source_ip = ipaddress.IPv4Address(source[0]).packed
    destination_ip = ipaddress.IPv4Address(destination[0]).packed
    header_words = 5 + len(options) // 4
    tcp = (
        struct.pack(
            "!HHIIHHHH",
            source[1],
            destination[1],
            sequence & 0xFFFFFFFF,
            acknowledgment & 0xFFFFFFFF,
            (header_words << 12) | flags,
            65535,
            0,
            0,
        )
        + options
        + payload
    )
    pseudo_header = source_ip + destination_ip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo_header + tcp)) + tcp[18:]

    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), identification & 0xFFFF, 0x4000, 64, 6, 0, source_ip, destination_ip)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp
