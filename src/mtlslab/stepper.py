"""Walk through the six stages of a handshake, message by message and byte by byte.

:class:`StageStepper` shows one stage at a time. For each message of the stage it lists
the direction, the RFC name, the record layer around it and the decoded fields. The
fields include cipher suites, supported_versions, the key_share group,
signature_algorithms, certificate subjects and SANs, the CertificateVerify algorithm with
the kit's re-check of its signature, and Finished. scapy's dissection of the same bytes
and a hex dump follow.

In JupyterLab the stepper is an ipywidgets view with Previous and Next buttons and a
slider. Everywhere else (a terminal, nbval, a static notebook viewer) it renders as plain
text. That text avoids values that change on every run, except inside the forms that the
test suite's output sanitizers replace: long hex strings and hex dumps.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from mtlslab.dissect import UNDECRYPTED, Dissection, Message
from mtlslab.environment import quiet_scapy
from mtlslab.errors import InputError
from mtlslab.evidence import Check
from mtlslab.ladder import ALERT_COLOUR, STAGE_COLOURS, select_connection
from mtlslab.pki.keys import describe_public_key
from mtlslab.pki.summary import subject_alt_names
from mtlslab.stages import STAGE_TITLES, ConnectionStages, Stage
from mtlslab.tls import names
from mtlslab.tls.wire import ParseError, Reader

TEXT_HEX_LIMIT = 64  # bytes of each message that the plain text shows
HTML_HEX_LIMIT = 4096  # bytes of each message that the widget shows
_FIELD_WIDTH = 30
_LINE_WIDTH = 110

# RFC 5246 section 7.4.4 and RFC 8422 section 5.5 (ClientCertificateType).
_CERTIFICATE_TYPES = {1: "rsa_sign", 2: "dss_sign", 3: "rsa_fixed_dh", 4: "dss_fixed_dh", 64: "ecdsa_sign"}
# Extension codes from the IANA TLS ExtensionType registry.
_EXT_SUPPORTED_GROUPS, _EXT_PSK_KEY_EXCHANGE_MODES = 10, 45
# RFC 8446 section 4.2.9 (PskKeyExchangeMode).
_PSK_MODES = {0: "psk_ke", 1: "psk_dhe_ke"}
# Random values that scapy shows as numbers. The plain text leaves them out, because they change on every run.
_SCAPY_RANDOM_FIELDS = {"gmt_unix_time", "ticket_age_add"}


def hexdump(data: bytes, limit: int | None = None) -> str:
    """Format bytes as ``hexdump -C`` does: offset, 16 bytes in hex, and the printable ASCII characters.

    With ``limit`` only the first ``limit`` bytes are formatted.
    """
    visible = data if limit is None else data[:limit]
    width = max(4, len(f"{max(len(visible) - 1, 0):x}"))
    lines = []
    for offset in range(0, len(visible), 16):
        chunk = visible[offset : offset + 16]
        left = " ".join(f"{byte:02x}" for byte in chunk[:8])
        right = " ".join(f"{byte:02x}" for byte in chunk[8:])
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"{offset:0{width}x}  {left:<23}  {right:<23}  |{text}|")
    return "\n".join(lines)


def _byte_count(size: int, limit: int) -> str:
    text = "1 byte" if size == 1 else f"{size} bytes"
    return text if size <= limit else f"{text}, first {limit} shown"


def _hex(data: bytes) -> str:
    return data.hex() if data else "(empty)"


def _names_of(table: dict[int, str], codes: list[int]) -> str:
    return ", ".join(names.name_of(table, code) for code in codes) or "(none)"


def _uint16_list(data: bytes, structure: str) -> list[int]:
    reader = Reader(Reader(data, structure).vector(2), structure)
    return [reader.uint(2) for _ in range(reader.remaining // 2)]


# --- decoded fields of each message ---------------------------------------------------------


@dataclass
class _Context:
    dissection: Dissection
    checks: dict[str, Check]

    @property
    def tls13(self) -> bool:
        return self.dissection.tls13


def _extension_fields(extensions: dict[int, bytes], client: bool) -> list[tuple[str, str]]:
    fields = [("extensions", ", ".join(names.name_of(names.EXTENSIONS, code) for code in extensions) or "(none)")]
    try:
        if _EXT_SUPPORTED_GROUPS in extensions:
            groups = _uint16_list(extensions[_EXT_SUPPORTED_GROUPS], "supported_groups")
            fields.append(("supported_groups", _names_of(names.NAMED_GROUPS, groups)))
        if names.EXT_SIGNATURE_ALGORITHMS in extensions:
            codes = _uint16_list(extensions[names.EXT_SIGNATURE_ALGORITHMS], "signature_algorithms")
            fields.append(("signature_algorithms", _names_of(names.SIGNATURE_SCHEMES, codes)))
        if client and _EXT_PSK_KEY_EXCHANGE_MODES in extensions:
            modes = Reader(extensions[_EXT_PSK_KEY_EXCHANGE_MODES], "psk_key_exchange_modes").vector(1)
            fields.append(("psk_key_exchange_modes", ", ".join(_PSK_MODES.get(mode, str(mode)) for mode in modes)))
    except ParseError as error:
        fields.append(("problem", str(error)))
    return fields


def _hello_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    hello = message.parsed
    if hello is None:  # the dissector could not parse it and recorded why in details["problem"]
        return []
    details = message.details
    client = message.name == "ClientHello"
    fields = [
        ("legacy_version", f"{names.version_name(hello.legacy_version)} (0x{hello.legacy_version:04x})"),
        ("random", _hex(hello.random)),
        ("legacy_session_id" if client else "legacy_session_id_echo", _hex(hello.session_id)),
    ]
    if client:
        fields.append(("cipher_suites", ", ".join(details.get("cipher_suites", []))))
        fields.append(("server_name (SNI)", details.get("server_name", "(absent)")))
        fields.append(("supported_versions", ", ".join(details.get("supported_versions", []))))
    else:
        fields.append(("cipher_suite", details.get("cipher_suite", "")))
        selected = hello.supported_versions
        source = "from supported_versions" if selected else "from legacy_version"
        fields.append(("version", f"{details.get('version')} ({source})"))
    if "key_share" in details:
        fields.append(("key_share group", ", ".join(details["key_share"]) or "(none)"))
    return fields + _extension_fields(hello.extensions, client)


def _encrypted_extensions_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    try:
        reader = Reader(message.body, "EncryptedExtensions")
        block = Reader(reader.vector(2), "extensions")
        codes = []
        while block.remaining:
            codes.append(block.uint(2))
            block.vector(2)
    except ParseError as error:
        return [("problem", str(error))]
    return [("extensions", _names_of(names.EXTENSIONS, codes))]


def _certificate_request_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    details = message.details
    authorities = details.get("certificate_authorities", 0)
    authority_text = f"{authorities} distinguished names" if authorities else "(absent: the server names no CA)"
    schemes = ", ".join(details.get("signature_algorithms", [])) or "(none)"
    if context.tls13:
        context_bytes = message.body[1 : 1 + message.body[0]] if message.body else b""
        return [
            ("certificate_request_context", _hex(context_bytes)),
            ("signature_algorithms", schemes),
            ("certificate_authorities", authority_text),
        ]
    types = message.body[1 : 1 + message.body[0]] if message.body else b""
    return [
        ("certificate_types", ", ".join(_CERTIFICATE_TYPES.get(code, str(code)) for code in types) or "(none)"),
        ("supported_signature_algorithms", schemes),
        ("certificate_authorities", authority_text),
    ]


def _describe_certificate(index: int, certificate: x509.Certificate) -> list[tuple[str, str]]:
    subject = certificate.subject.rfc4514_string() or "(empty)"
    alternative_names = ", ".join(subject_alt_names(certificate)) or "(none)"
    return [
        (f"[{index}] subject", subject),
        (f"[{index}] subjectAltName", alternative_names),
        (f"[{index}] issuer", certificate.issuer.rfc4514_string()),
        (f"[{index}] public key", describe_public_key(certificate.public_key())),
    ]


def _certificate_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    fields = []
    if context.tls13:
        length = message.body[0] if message.body else 0
        fields.append(("certificate_request_context", _hex(message.body[1 : 1 + length])))
    certificates = message.parsed or []
    if not certificates:
        fields.append(("certificate_list", f"(empty: the {message.sender} has no certificate to present)"))
        return fields
    count = len(certificates)
    fields.append(("certificate_list", f"{count} certificate{'s' * (count != 1)}, the {message.sender}'s own first"))
    for index, certificate in enumerate(certificates):
        fields.extend(_describe_certificate(index, certificate))
    return fields + _check_fields(context, f"{message.sender} certificate chain")


def _check_fields(context: _Context, name: str) -> list[tuple[str, str]]:
    check = context.checks.get(name)
    if check is None:
        return []
    return [("kit re-check", f"{check.result}: {check.detail}")]


def _certificate_verify_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    if message.parsed is None:
        return []
    scheme, signature = message.parsed
    fields = [
        ("algorithm", f"{names.name_of(names.SIGNATURE_SCHEMES, scheme)} (0x{scheme:04x})"),
        ("signature", _hex(signature)),
    ]
    return fields + _check_fields(context, f"{message.sender} CertificateVerify signature")


def _finished_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    return [("verify_data", _hex(message.body))] + _check_fields(context, f"{message.sender} Finished")


def _server_key_exchange_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    exchange = message.parsed
    if exchange is None:
        return []
    fields = [
        ("named_curve", exchange.group),
        ("signature algorithm", names.name_of(names.SIGNATURE_SCHEMES, exchange.scheme)),
        ("signature", _hex(exchange.signature)),
    ]
    return fields + _check_fields(context, "server ServerKeyExchange signature")


def _client_key_exchange_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    body = message.body
    if context.dissection.suite and "ECDHE" in context.dissection.suite.name and body:
        return [("ecdh_Yc (public key)", _hex(body[1 : 1 + body[0]]))]
    return [("exchange_keys", _hex(body))]


def _new_session_ticket_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    if len(message.body) < 4:
        return []
    lifetime = int.from_bytes(message.body[:4], "big")
    return [("ticket_lifetime", f"{lifetime} seconds (ticket_lifetime_hint in TLS 1.2)")]


def _server_hello_done_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    return [("body", "(empty: the server's first flight ends here)")]


def _change_cipher_spec_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    if context.tls13:
        meaning = "no effect on keys: sent for middlebox compatibility, and the peer drops it (RFC 8446 appendix D.4)"
    else:
        meaning = "the sender protects every record after this one with the new keys (RFC 5246 section 7.1)"
    return [("value", message.raw.hex() or "(empty)"), ("meaning", meaning)]


def _alert_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    if not message.decrypted or message.parsed is None:
        return [("alert", "(not decrypted)")]
    return [("level", str(message.details.get("level"))), ("description", str(message.parsed))]


def _application_data_fields(message: Message, context: _Context) -> list[tuple[str, str]]:
    if not message.decrypted:
        return [("content", "(not decrypted)")]
    return [("content", f"{message.details.get('length', 0)} bytes of the application's data")]


_FIELDS = {
    "ClientHello": _hello_fields,
    "ServerHello": _hello_fields,
    "HelloRetryRequest": _hello_fields,
    "EncryptedExtensions": _encrypted_extensions_fields,
    "CertificateRequest": _certificate_request_fields,
    "Certificate": _certificate_fields,
    "CertificateVerify": _certificate_verify_fields,
    "Finished": _finished_fields,
    "ServerKeyExchange": _server_key_exchange_fields,
    "ClientKeyExchange": _client_key_exchange_fields,
    "NewSessionTicket": _new_session_ticket_fields,
    "ServerHelloDone": _server_hello_done_fields,
    "ChangeCipherSpec": _change_cipher_spec_fields,
    "Alert": _alert_fields,
    "application_data": _application_data_fields,
}


def message_fields(message: Message, dissection: Dissection, checks: dict[str, Check] | None = None) -> list[tuple[str, str]]:
    """Return the decoded fields of ``message`` as (field, value) pairs, in RFC field names where one exists.

    ``checks`` maps the kit's re-check names (such as ``client CertificateVerify signature``)
    to their results; a message with a matching check gets a ``kit re-check`` field.
    """
    context = _Context(dissection, checks or {})
    if message.name == UNDECRYPTED or (not message.decrypted and message.name != "Alert"):
        outer = message.details.get("outer_content_type") or "unknown"
        return [("content", f"(not decrypted; outer content type {outer})")]
    reader = _FIELDS.get(message.name)
    try:
        fields = reader(message, context) if reader else []
    except (ParseError, IndexError) as error:
        fields = [("problem", f"the fields cannot be decoded: {error}")]
    if "problem" in message.details:
        fields.append(("problem", message.details["problem"]))
    return fields


# --- scapy's dissection -----------------------------------------------------------------------


def _scapy_tls():
    """Import scapy's TLS layer, which takes about half a second, on first use."""
    with quiet_scapy():
        from scapy.layers.tls import handshake
        from scapy.layers.tls.crypto.suites import _tls_cipher_suites_cls
        from scapy.layers.tls.session import readConnState, tlsSession, writeConnState
    return handshake, _tls_cipher_suites_cls, readConnState, tlsSession, writeConnState


def _scapy_session(dissection: Dissection):
    """Build a scapy TLS session with the version and cipher suite set, and nothing else.

    scapy needs them to size a TLS 1.3 Finished and to parse a TLS 1.2 ClientKeyExchange.
    The session is frozen, so parsing a message does not change it.
    """
    _, suites, read_state, session_class, write_state = _scapy_tls()
    version = dissection.version or names.TLS12
    suite = suites.get(dissection.suite_code) if dissection.suite_code is not None else None
    session = session_class(connection_end="client")
    session.tls_version = version
    options = {"ciphersuite": suite, "connection_end": "client", "tls_version": version}
    session.rcs = read_state(**options)
    session.prcs = read_state(**options)
    session.wcs = write_state(**options)
    session.pwcs = write_state(**options)
    session.frozen = True
    return session


def scapy_class(message: Message, dissection: Dissection):
    """Return the scapy class that parses this handshake message in this TLS version, or None."""
    if message.handshake_type is None:
        return None
    handshake = _scapy_tls()[0]
    table = handshake._tls13_handshake_cls if dissection.tls13 else handshake._tls_handshake_cls
    return table.get(message.handshake_type)


def scapy_message(message: Message, dissection: Dissection):
    """Parse a plaintext (or decrypted) handshake message with scapy's TLS layer; None when scapy has no class for it."""
    cls = scapy_class(message, dissection)
    if cls is None or not message.raw:
        return None
    with quiet_scapy():
        return cls(message.raw, tls_session=_scapy_session(dissection))


def _scapy_value(packet, field, value) -> str:
    from scapy.packet import Packet

    if isinstance(value, bytes):
        if not value:
            return "b''"
        # 16 bytes give 32 hex digits, enough for the output sanitizers to recognize them as hex.
        return value[:16].hex() + ("…" if len(value) > 16 else "")
    if isinstance(value, Packet):
        return f"{type(value).__name__}({_scapy_fields(value)})"
    if isinstance(value, list) and value and isinstance(value[0], Packet):
        if all(item.fields_desc and item.fields_desc[0].name == "type" for item in value):
            return "[" + ", ".join(str(item.get_field("type").i2repr(item, item.type)) for item in value) + "]"
        return f"[{len(value)} × {type(value[0]).__name__}]"
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return f"[{len(value)} certificates]"
    text = str(field.i2repr(packet, value))
    return text if len(text) <= 90 else text[:89] + "…"


def _scapy_fields(packet) -> str:
    parts = []
    for field in packet.fields_desc:
        if field.name.endswith("len") or field.name in _SCAPY_RANDOM_FIELDS:
            continue
        value = packet.getfieldval(field.name)
        parts.append(f"{field.name}={_scapy_value(packet, field, value)}")
    return ", ".join(parts)


def scapy_summary(message: Message, dissection: Dissection) -> str | None:
    """Return scapy's view of a handshake message in one line: its class and fields; None for non-handshake messages."""
    if message.handshake_type is None or not message.raw:
        return None
    try:
        packet = scapy_message(message, dissection)
    except Exception as error:  # scapy raises many types on odd input; the stepper reports it and goes on
        return f"scapy could not parse it ({type(error).__name__}: {error})"
    if packet is None:
        return f"scapy has no class for handshake type {message.handshake_type}"
    return f"{type(packet).__name__}: {_scapy_fields(packet)}"


def _scapy_show(message: Message, dissection: Dissection) -> str | None:
    try:
        packet = scapy_message(message, dissection)
        if packet is None:
            return None
        with quiet_scapy():
            return packet.show(dump=True)
    except Exception as error:  # see scapy_summary
        return f"scapy could not parse it ({type(error).__name__}: {error})"


# --- the stepper ------------------------------------------------------------------------------


def _wrap(field: str, value: str, indent: str) -> list[str]:
    prefix = f"{indent}{field:<{_FIELD_WIDTH}} "
    # Long words such as hex strings stay whole, so that the output sanitizers see each one in full.
    return textwrap.wrap(
        value,
        width=_LINE_WIDTH,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
        break_on_hyphens=False,
        break_long_words=False,
    ) or [prefix.rstrip()]


class StageView:
    """One stage of a handshake as plain text; a notebook shows it as that text."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text)


class StageStepper:
    """Step through the six stages of one connection: a widget in JupyterLab, plain text elsewhere.

    ``source`` is a recorded :class:`~mtlslab.record.Transcript`, a capture report (pick
    the connection with ``connection``, counted from 1) or one connection's stage report.
    """

    def __init__(self, source, *, connection: int = 1, stage: int = 1):
        self.result: ConnectionStages = select_connection(source, connection)
        self.dissection = self.result.dissection
        self.checks = {check.name: check for item in self.result.stages for check in item.evidence}
        self.current = self._valid(stage)
        self._texts: dict[tuple, str] = {}
        self._slider = None
        self._widget = None

    # navigation

    def go(self, stage: int) -> StageStepper:
        """Show stage ``stage`` (1 to 6) and return the stepper."""
        self.current = self._valid(stage)
        if self._slider is not None:
            self._slider.value = self.current
        return self

    def next_stage(self) -> StageStepper:
        """Move to the next stage; stage 6 stays at 6."""
        return self.go(min(6, self.current + 1))

    def previous_stage(self) -> StageStepper:
        """Move to the previous stage; stage 1 stays at 1."""
        return self.go(max(1, self.current - 1))

    @staticmethod
    def _valid(stage: int) -> int:
        if not isinstance(stage, int) or not 1 <= stage <= 6:
            raise InputError(f"stage {stage!r} does not exist: the handshake has stages 1 to 6")
        return stage

    # text

    def header(self) -> str:
        """Return one line on the connection: version, cipher suite and outcome."""
        version = self.dissection.version_name or "version unknown"
        suite = self.dissection.suite_name or "cipher suite unknown"
        return f"{version}, {suite}; {self.result.outcome}"

    def text(self, stage: int | None = None, only: Iterable[str] | None = None) -> str:
        """Return stage ``stage`` (default: the current one) as plain text.

        ``only`` names the messages to show (such as ``["CertificateRequest"]``); the
        stage's checks and notes are shown either way.
        """
        number = self._valid(stage if stage is not None else self.current)
        if isinstance(only, str):
            only = [only]
        key = (number, tuple(only) if only is not None else None)
        if key not in self._texts:
            self._texts[key] = self._stage_text(self.result.stage(number), key[1])
        return self._texts[key]

    def view(self, stage: int, only: Iterable[str] | None = None) -> StageView:
        """Return stage ``stage`` as an object that a notebook shows as plain text; ``only`` as for :meth:`text`."""
        return StageView(self.text(stage, only))

    def __str__(self) -> str:
        return self.text()

    def _stage_text(self, stage: Stage, only: tuple[str, ...] | None) -> str:
        lines = [f"Stage {stage.number} of 6: {stage.title} ({stage.status})", self.header()]
        messages = [m for m in stage.messages if only is None or m.name in only]
        if not stage.messages:
            lines.append("  (no message on the wire in this stage)")
        elif len(messages) < len(stage.messages):
            hidden = len(stage.messages) - len(messages)
            lines.append(f"  ({hidden} of the stage's {len(stage.messages)} messages not shown)")
        for message in messages:
            lines.append("")
            lines.extend(self._message_lines(message))
        if stage.evidence or stage.notes:
            lines.append("")
        lines.extend(f"check: {check}" for check in stage.evidence)
        lines.extend(f"note: {note}" for note in stage.notes)
        return "\n".join(lines)

    def _record_layer(self, message: Message) -> str:
        record = next((r for r in self.dissection.records if r.number == message.record), None)
        if record is None:
            return ""
        outer = names.CONTENT_TYPES.get(record.content_type, str(record.content_type))
        inner = names.CONTENT_TYPES.get(message.content_type, str(message.content_type))
        if not message.encrypted:
            return f"{outer} ({record.content_type}), in clear"
        if not message.decrypted:
            return f"{outer} ({record.content_type}) outside, not decrypted"
        return f"{outer} ({record.content_type}) outside, {inner} ({message.content_type}) inside, decrypted with the key log"

    def _message_lines(self, message: Message) -> list[str]:
        lines = [f"record {message.record}  {message.direction}  {message.name}"]
        lines.extend(_wrap("record layer", self._record_layer(message), "    "))
        for field, value in message_fields(message, self.dissection, self.checks):
            lines.extend(_wrap(field, value, "    "))
        summary = scapy_summary(message, self.dissection)
        if summary is not None:
            lines.extend(_wrap("scapy", summary, "    "))
        if message.raw:
            lines.append(f"    hex dump ({_byte_count(len(message.raw), TEXT_HEX_LIMIT)}):")
            lines.extend("      " + line for line in hexdump(message.raw, TEXT_HEX_LIMIT).splitlines())
        return lines

    # HTML and widget

    def html(self, stage: int | None = None) -> str:
        """Return stage ``stage`` (default: the current one) as HTML, with full hex dumps and scapy's dissection."""
        number = self._valid(stage if stage is not None else self.current)
        item = self.result.stage(number)
        colour = STAGE_COLOURS[number]
        parts = [
            f'<div style="border-left: 6px solid {colour}; padding: 4px 10px;">',
            f"<h4 style='margin: 2px 0'>Stage {number} of 6: {html.escape(item.title)} ({html.escape(item.status)})</h4>",
            f"<div>{html.escape(self.header())}</div>",
        ]
        if not item.messages:
            parts.append("<p><i>No message on the wire in this stage.</i></p>")
        for message in item.messages:
            parts.append(self._message_html(message, colour))
        for check in item.evidence:
            parts.append(f"<div><b>check:</b> {html.escape(str(check))}</div>")
        for note in item.notes:
            parts.append(f"<div><b>note:</b> {html.escape(note)}</div>")
        parts.append("</div>")
        return "\n".join(parts)

    def _message_html(self, message: Message, colour: str) -> str:
        arrow_colour = ALERT_COLOUR if message.name == "Alert" else colour
        rows = [("record layer", self._record_layer(message))]
        rows += message_fields(message, self.dissection, self.checks)
        table = "".join(
            f"<tr><td style='text-align:left; vertical-align:top; padding-right:12px'><code>{html.escape(field)}</code></td>"
            f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
            for field, value in rows
        )
        parts = [
            "<div style='margin: 10px 0'>",
            (
                f"<div style='color:{arrow_colour}; font-weight:bold'>record {message.record} &nbsp; "
                f"{html.escape(message.direction)} &nbsp; {html.escape(message.name)}</div>"
            ),
            f"<table style='font-size: 90%'>{table}</table>",
        ]
        dissected = _scapy_show(message, self.dissection) if message.handshake_type is not None else None
        if dissected:
            parts.append(f"<details><summary>dissected with scapy</summary><pre>{html.escape(dissected)}</pre></details>")
        if message.raw:
            dump = html.escape(hexdump(message.raw, HTML_HEX_LIMIT))
            count = _byte_count(len(message.raw), HTML_HEX_LIMIT)
            parts.append(f"<details><summary>hex dump ({count})</summary><pre>{dump}</pre></details>")
        parts.append("</div>")
        return "\n".join(parts)

    def widget(self):
        """Return the ipywidgets view: Previous and Next buttons, a stage slider and the stage's messages."""
        if self._widget is not None:
            return self._widget
        import ipywidgets

        slider = ipywidgets.IntSlider(value=self.current, min=1, max=6, description="Stage", continuous_update=False)
        previous = ipywidgets.Button(description="Previous", icon="arrow-left")
        following = ipywidgets.Button(description="Next", icon="arrow-right")
        title = ipywidgets.HTML()
        body = ipywidgets.HTML(self.html(self.current))

        def show(number: int) -> None:
            self.current = number
            title.value = f"<b>{html.escape(STAGE_TITLES[number])}</b>"
            body.value = self.html(number)
            previous.disabled = number == 1
            following.disabled = number == 6

        slider.observe(lambda change: show(change["new"]), names="value")
        previous.on_click(lambda _button: setattr(slider, "value", max(1, slider.value - 1)))
        following.on_click(lambda _button: setattr(slider, "value", min(6, slider.value + 1)))
        show(self.current)
        self._slider = slider
        self._widget = ipywidgets.VBox([ipywidgets.HBox([previous, slider, following, title]), body])
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": self.text()}
        if _kernel_running():
            bundle.update(self.widget()._repr_mimebundle_() or {})
            bundle["text/plain"] = self.text()
        return bundle


def _kernel_running() -> bool:
    """True inside a Jupyter kernel, where ipywidgets can show a live view."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
