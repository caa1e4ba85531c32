"""Bytes on the wire of one handshake, message by message.

One connection is recorded in memory with its key log (:mod:`mtlslab.record`) and
dissected (:mod:`mtlslab.dissect`), which decrypts the TLS 1.3 handshake messages. Each
message is charged with the records that carry it: the 5-byte record header, the
message itself and, for a protected TLS 1.3 record, the inner content-type byte and
the 16-byte AEAD tag (RFC 8446 section 5.2). TCP and IP headers are not counted.
"""

from __future__ import annotations

import ssl
from collections import defaultdict
from dataclasses import dataclass

from mtlslab.dissect import Dissection, dissect_connection
from mtlslab.pcap import LINKTYPE_ETHERNET, Frame
from mtlslab.record import record_handshake
from mtlslab.tcpstream import reassemble
from mtlslab.tls.keylog import KeyLog

RECORD_HEADER_BYTES = 5

# Content types (RFC 8446 section 5.1) of alerts and application data, which
# handshake_messages() leaves out.
_NOT_HANDSHAKE = {21, 23}


@dataclass(frozen=True)
class WireMessage:
    """A TLS message and the bytes of the records that carried it."""

    sender: str
    name: str
    wire_bytes: int


@dataclass(frozen=True)
class MessagePair:
    """One message as two recorded connections sent it, with None for a connection that did not send it."""

    sender: str
    name: str
    first: int | None
    second: int | None


def handshake_messages(server_context: ssl.SSLContext, client_context: ssl.SSLContext) -> list[WireMessage]:
    """Record one connection and return its handshake messages in wire order, with their bytes.

    The list includes ChangeCipherSpec and the NewSessionTicket messages that a TLS 1.3
    server sends right after the handshake, and leaves out application data and alerts.
    Raises RuntimeError when the handshake fails, naming each side's error.
    """
    transcript = record_handshake(server_context, client_context)
    if not transcript.ok:
        raise RuntimeError(f"the recorded handshake failed: {transcript.client}; {transcript.server}")
    frames = [
        Frame(number, time, LINKTYPE_ETHERNET, data) for number, (time, data) in enumerate(transcript.pcap_frames(), start=1)
    ]
    connections, _ = reassemble(frames)
    dissection = dissect_connection(connections[0], KeyLog.parse(transcript.keylog))
    return _charge_records(dissection)


def _charge_records(dissection: Dissection) -> list[WireMessage]:
    """Split each record's bytes among the messages that start in it.

    A record in which no message starts continues the last message of its sender.
    """
    starting = defaultdict(list)
    for message in dissection.messages:
        starting[message.record].append(message)

    charged: dict[int, int] = defaultdict(int)
    last_started = {}
    for record in dissection.records:
        size = RECORD_HEADER_BYTES + record.length
        messages = starting.get(record.number, [])
        if not messages:
            if record.sender in last_started:
                charged[id(last_started[record.sender])] += size
            continue
        # The first message also carries the record's header and protection bytes.
        others = sum(len(message.raw) for message in messages[1:])
        charged[id(messages[0])] += size - others
        for message in messages[1:]:
            charged[id(message)] += len(message.raw)
        last_started[record.sender] = messages[-1]

    return [
        WireMessage(message.sender, message.name, charged[id(message)])
        for message in dissection.messages
        if message.content_type not in _NOT_HANDSHAKE
    ]


def bytes_by_sender(messages: list[WireMessage]) -> dict[str, int]:
    """Add up the bytes that the client and the server sent."""
    totals = {"client": 0, "server": 0}
    for message in messages:
        totals[message.sender] += message.wire_bytes
    return totals


def pair_messages(first: list[WireMessage], second: list[WireMessage]) -> list[MessagePair]:
    """Line up two connections' messages by sender, name and occurrence, in the second connection's order.

    Messages that only the first connection sent follow at the end.
    """
    unmatched = defaultdict(list)
    for message in first:
        unmatched[(message.sender, message.name)].append(message)

    pairs = []
    for message in second:
        candidates = unmatched[(message.sender, message.name)]
        match = candidates.pop(0) if candidates else None
        pairs.append(MessagePair(message.sender, message.name, match.wire_bytes if match else None, message.wire_bytes))
    for (sender, name), rest in unmatched.items():
        pairs.extend(MessagePair(sender, name, message.wire_bytes, None) for message in rest)
    return pairs
