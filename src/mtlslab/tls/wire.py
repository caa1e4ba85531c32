"""Parsers for TLS records, alerts and handshake message bodies.

Each parser takes bytes and returns plain values; malformed input raises ParseError
with a sentence that describes the fault, never an IndexError or struct.error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from mtlslab.tls import names
from mtlslab.tls.ciphers import cipher_suite_name


class ParseError(ValueError):
    """Bytes that do not form the TLS structure they should."""


class Reader:
    """A cursor over bytes whose reads raise ParseError past the end."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.offset = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def take(self, length: int) -> bytes:
        if length > self.remaining:
            raise ParseError(f"{self.what} is truncated: needs {length} more bytes, has {self.remaining}")
        chunk = self.data[self.offset : self.offset + length]
        self.offset += length
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))


@dataclass
class RawRecord:
    """One TLSPlaintext or TLSCiphertext record as it appears in a byte stream."""

    offset: int
    content_type: int
    version: int
    fragment: bytes

    @property
    def header(self) -> bytes:
        return struct.pack("!BHH", self.content_type, self.version, len(self.fragment))


# RFC 8446 section 5.2: a record fragment may be at most 2^14 + 256 bytes.
MAX_FRAGMENT = 2**14 + 256


def looks_like_tls(data: bytes) -> bool:
    """True when ``data`` starts with a plausible TLS record header."""
    return len(data) >= 5 and data[0] in names.CONTENT_TYPES and data[1] == 3 and data[2] <= 4


def split_records(stream: bytes) -> tuple[list[RawRecord], str | None]:
    """Split a TCP byte stream into TLS records.

    Returns the records and a sentence about what stopped the split early: a header that is
    not TLS, an oversized record or a record cut off at the end of the stream; None when the
    whole stream was read.
    """
    records = []
    offset = 0
    end = len(stream)
    while offset < end:
        if end - offset < 5:
            return records, f"the stream ends inside a record header at byte {offset}"
        content_type, version, length = struct.unpack_from("!BHH", stream, offset)
        if content_type not in names.CONTENT_TYPES or version >> 8 != 3:
            return records, f"bytes at offset {offset} are not a TLS record header ({stream[offset:offset + 5].hex()})"
        if length > MAX_FRAGMENT:
            return records, f"record at offset {offset} claims {length} bytes, more than TLS allows"
        if offset + 5 + length > end:
            missing = offset + 5 + length - end
            return records, f"the stream ends inside a record at offset {offset} ({missing} bytes missing)"
        records.append(RawRecord(offset, content_type, version, stream[offset + 5 : offset + 5 + length]))
        offset += 5 + length
    return records, None


def parse_alert(fragment: bytes) -> tuple[int, int]:
    """Return (level, description) of an alert record's content."""
    if len(fragment) != 2:
        raise ParseError(f"an alert has 2 bytes, this one {len(fragment)}")
    return fragment[0], fragment[1]


def split_handshake_messages(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Split reassembled handshake bytes into whole messages (header included) and the unfinished rest."""
    messages = []
    offset = 0
    while len(buffer) - offset >= 4:
        length = int.from_bytes(buffer[offset + 1 : offset + 4], "big")
        if len(buffer) - offset < 4 + length:
            break
        messages.append(buffer[offset : offset + 4 + length])
        offset += 4 + length
    return messages, buffer[offset:]


def _extensions(reader: Reader) -> dict[int, bytes]:
    extensions: dict[int, bytes] = {}
    if reader.remaining == 0:
        return extensions
    block = Reader(reader.vector(2), "extensions block")
    while block.remaining:
        code = block.uint(2)
        extensions[code] = block.vector(2)
    return extensions


@dataclass
class Hello:
    """The fields of a ClientHello or ServerHello that the dissector uses."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    extensions: dict[int, bytes] = field(default_factory=dict)

    @property
    def supported_versions(self) -> list[int]:
        data = self.extensions.get(names.EXT_SUPPORTED_VERSIONS)
        if data is None:
            return []
        if len(data) == 2:  # ServerHello: the one selected version
            return [int.from_bytes(data, "big")]
        reader = Reader(data, "supported_versions")
        versions = Reader(reader.vector(1), "supported_versions list")
        return [versions.uint(2) for _ in range(versions.remaining // 2)]

    @property
    def server_name(self) -> str | None:
        data = self.extensions.get(names.EXT_SERVER_NAME)
        if not data:
            return None
        reader = Reader(Reader(data, "server_name").vector(2), "server_name list")
        while reader.remaining:
            name_type = reader.uint(1)
            host = reader.vector(2)
            if name_type == 0:
                return host.decode("ascii", errors="replace")
        return None


def parse_client_hello(body: bytes) -> Hello:
    """Parse a ClientHello body (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2)."""
    reader = Reader(body, "ClientHello")
    version = reader.uint(2)
    random = reader.take(32)
    session_id = reader.vector(1)
    suites_data = reader.vector(2)
    suites = [int.from_bytes(suites_data[i : i + 2], "big") for i in range(0, len(suites_data) - 1, 2)]
    reader.vector(1)  # legacy compression methods
    return Hello(version, random, session_id, suites, _extensions(reader))


def parse_server_hello(body: bytes) -> Hello:
    """Parse a ServerHello or HelloRetryRequest body; ``cipher_suites`` contains the selected one."""
    reader = Reader(body, "ServerHello")
    version = reader.uint(2)
    random = reader.take(32)
    session_id = reader.vector(1)
    suite = reader.uint(2)
    reader.uint(1)  # legacy compression method
    return Hello(version, random, session_id, [suite], _extensions(reader))


def parse_certificate(body: bytes, tls13: bool) -> list[bytes]:
    """Return the DER certificates of a Certificate message, leaf first; empty when none was sent."""
    reader = Reader(body, "Certificate")
    if tls13:
        reader.vector(1)  # certificate_request_context
    entries = Reader(reader.vector(3), "certificate_list")
    certificates = []
    while entries.remaining:
        certificates.append(entries.vector(3))
        if tls13:
            entries.vector(2)  # per-certificate extensions
    return certificates


def parse_certificate_verify(body: bytes) -> tuple[int, bytes]:
    """Return (signature scheme, signature) of a CertificateVerify."""
    reader = Reader(body, "CertificateVerify")
    return reader.uint(2), reader.vector(2)


@dataclass
class ServerKeyExchange:
    """The signed parameters of an ECDHE or DHE ServerKeyExchange (RFC 8422, RFC 5246 section 7.4.3)."""

    params: bytes
    group: str
    scheme: int
    signature: bytes


def parse_server_key_exchange(body: bytes) -> ServerKeyExchange:
    """Parse a ServerKeyExchange; ECDHE with a named curve and DHE are understood."""
    reader = Reader(body, "ServerKeyExchange")
    if body[:1] == b"\x03":
        reader.take(1)
        group = names.name_of(names.NAMED_GROUPS, reader.uint(2))
        reader.vector(1)  # the server's ephemeral public point
    else:
        for _ in range(3):  # dh_p, dh_g, dh_Ys
            reader.vector(2)
        group = "DHE"
    params = body[: reader.offset]
    scheme = reader.uint(2)
    return ServerKeyExchange(params, group, scheme, reader.vector(2))


def parse_certificate_request(body: bytes, tls13: bool) -> dict:
    """Return the signature algorithms and the number of CA names a CertificateRequest requests."""
    reader = Reader(body, "CertificateRequest")
    schemes: list[int] = []
    authorities = 0
    if tls13:
        reader.vector(1)  # certificate_request_context
        extensions = _extensions(reader)
        if names.EXT_SIGNATURE_ALGORITHMS in extensions:
            schemes = _schemes(Reader(extensions[names.EXT_SIGNATURE_ALGORITHMS], "signature_algorithms").vector(2))
        if names.EXT_CERTIFICATE_AUTHORITIES in extensions:
            authorities = _count_names(extensions[names.EXT_CERTIFICATE_AUTHORITIES])
    else:
        reader.vector(1)  # certificate_types
        schemes = _schemes(reader.vector(2))
        authorities = _count_names(reader.take(reader.remaining))
    return {
        "signature_algorithms": [names.name_of(names.SIGNATURE_SCHEMES, code) for code in schemes],
        "certificate_authorities": authorities,
    }


def _schemes(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]


def _count_names(data: bytes) -> int:
    if not data:
        return 0
    reader = Reader(Reader(data, "certificate_authorities").vector(2), "certificate_authorities list")
    count = 0
    while reader.remaining:
        reader.vector(2)
        count += 1
    return count


def describe_hello(hello: Hello, client: bool) -> dict:
    """Summarize a hello for display: versions, suites, server name, groups."""
    details: dict = {"random": hello.random.hex()}
    if client:
        details["cipher_suites"] = [cipher_suite_name(code) for code in hello.cipher_suites]
        if hello.server_name:
            details["server_name"] = hello.server_name
        versions = hello.supported_versions
        details["supported_versions"] = [names.version_name(v) for v in versions] or [
            names.version_name(hello.legacy_version)
        ]
    else:
        details["cipher_suite"] = cipher_suite_name(hello.cipher_suites[0])
        versions = hello.supported_versions
        details["version"] = names.version_name(versions[0] if versions else hello.legacy_version)
    key_share = hello.extensions.get(names.EXT_KEY_SHARE)
    if key_share:
        details["key_share"] = _key_share_groups(key_share, client)
    return details


def _key_share_groups(data: bytes, client: bool) -> list[str]:
    try:
        if client:
            reader = Reader(Reader(data, "key_share").vector(2), "key_share list")
            groups = []
            while reader.remaining:
                groups.append(names.name_of(names.NAMED_GROUPS, reader.uint(2)))
                reader.vector(2)
            return groups
        return [names.name_of(names.NAMED_GROUPS, int.from_bytes(data[:2], "big"))]
    except ParseError:
        return []
