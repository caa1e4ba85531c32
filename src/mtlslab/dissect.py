"""Dissect the TLS in a TCP connection: every record and handshake message, decrypted when keys allow.

The dissector works on the two reassembled byte streams of a connection. It frames
records, decrypts them with the secrets of an NSS key log (TLS 1.3 traffic secrets or the
TLS 1.2 master secret), reassembles handshake messages across records, and names each
message as RFC 5246 and RFC 8446 do. Malformed records and messages do not stop it: each
parse error goes into ``problems``, and the rest of the connection is still dissected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from mtlslab.alerts import alert_from_code
from mtlslab.packets import Endpoint
from mtlslab.pki.summary import subject_alt_names
from mtlslab.tcpstream import Stream, TcpConnection
from mtlslab.tls import names
from mtlslab.tls.ciphers import (
    CIPHER_SUITES,
    CipherSuite,
    DecryptionError,
    Tls13RecordKey,
    cipher_suite_name,
    next_traffic_secret,
    tls12_record_keys,
)
from mtlslab.tls.keylog import KeyLog
from mtlslab.tls.wire import (
    Hello,
    ParseError,
    RawRecord,
    describe_hello,
    parse_alert,
    parse_certificate,
    parse_certificate_request,
    parse_certificate_verify,
    parse_client_hello,
    parse_server_hello,
    parse_server_key_exchange,
    split_handshake_messages,
    split_records,
)

ARROWS = {"client": "client -> server", "server": "server -> client"}
UNDECRYPTED = "encrypted record"

# Traffic secrets in the order each side uses them (RFC 8446 section 7.1).
_TLS13_LABELS = {
    "client": ("CLIENT_EARLY_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"),
    "server": ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"),
}


@dataclass
class Record:
    """One TLS record on the wire, numbered in wire order across both directions of its connection."""

    number: int
    sender: str
    content_type: int
    length: int
    frame: int | None
    time: float | None
    raw: RawRecord = field(repr=False)
    decrypted: bool | None = None  # None: sent in the clear


@dataclass
class Message:
    """A TLS message: a handshake message, a ChangeCipherSpec, an alert, application data, or a record not decrypted.

    ``record`` is the number of the record where the message starts. ``raw`` contains a
    handshake message with its 4-byte header, as the transcript hash takes it.
    """

    name: str
    sender: str
    record: int
    frame: int | None
    time: float | None
    content_type: int
    encrypted: bool = False
    handshake_type: int | None = None
    raw: bytes = field(default=b"", repr=False)
    details: dict = field(default_factory=dict)
    parsed: object = field(default=None, repr=False)
    decrypted: bool = True
    stage: int | None = None

    @property
    def direction(self) -> str:
        return ARROWS[self.sender]

    @property
    def body(self) -> bytes:
        return self.raw[4:]


@dataclass
class Dissection:
    """Everything the dissector found in one connection."""

    client: Endpoint
    server: Endpoint
    records: list[Record] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    client_hello: Hello | None = None
    server_hello: Hello | None = None
    hello_retry: bool = False
    version: int | None = None
    suite: CipherSuite | None = None
    suite_code: int | None = None
    secrets: dict[str, bytes] = field(default_factory=dict)
    decryption: str = "not needed"
    problems: list[str] = field(default_factory=list)
    closed_by: list[str] = field(default_factory=list)

    @property
    def tls13(self) -> bool:
        return self.version == names.TLS13

    @property
    def version_name(self) -> str | None:
        return names.version_name(self.version)

    @property
    def suite_name(self) -> str | None:
        return cipher_suite_name(self.suite_code) if self.suite_code is not None else None

    @property
    def server_name(self) -> str | None:
        return self.client_hello.server_name if self.client_hello else None

    def handshake_messages(self, sender: str | None = None) -> list[Message]:
        """Return the decrypted handshake messages, of one sender when given, in wire order."""
        return [
            message
            for message in self.messages
            if message.handshake_type is not None and (sender is None or message.sender == sender)
        ]

    def find(self, name: str, sender: str) -> Message | None:
        """Return the first message named ``name`` from ``sender``, or None."""
        return next((m for m in self.messages if m.name == name and m.sender == sender), None)

    def certificates(self, sender: str) -> list[x509.Certificate]:
        """Return the certificates ``sender`` presented, leaf first; empty when none was seen."""
        message = next(
            (m for m in self.messages if m.handshake_type == names.CERTIFICATE and m.sender == sender), None
        )
        return list(message.parsed) if message is not None and message.parsed else []


def describe_certificate(certificate: x509.Certificate) -> str:
    """Name a certificate by its subject, or by its SANs when the subject is empty."""
    subject = certificate.subject.rfc4514_string()
    if subject:
        return subject
    alternative_names = subject_alt_names(certificate)
    return ", ".join(alternative_names) if alternative_names else "(no subject and no SAN)"


def dissect_connection(connection: TcpConnection, keylog: KeyLog | None = None) -> Dissection:
    """Dissect the TLS records of one TCP connection; see the module docstring."""
    dissection = Dissection(connection.client, connection.server)
    per_sender = {}
    for sender in ("client", "server"):
        stream = connection.stream_of(sender)
        raw_records, problem = split_records(stream.data)
        if problem:
            dissection.problems.append(f"{ARROWS[sender]}: {problem}")
        dissection.problems.extend(f"{ARROWS[sender]}: {text}" for text in stream.problems)
        if stream.fin or stream.reset:
            dissection.closed_by.append(f"{sender} ({'RST' if stream.reset else 'FIN'})")
        per_sender[sender] = [_located(sender, record, stream) for record in raw_records]
    _number_records(dissection, per_sender)

    _read_client_hello(dissection, per_sender["client"])
    _read_server_hello(dissection, per_sender["server"])
    if dissection.client_hello is not None:
        dissection.secrets = keylog.lookup(dissection.client_hello.random) if keylog else {}

    for sender in ("server", "client"):
        _DirectionReader(dissection, sender, keylog).read(per_sender[sender])
    dissection.messages.sort(key=lambda message: message.record)
    _summarize_decryption(dissection, keylog)
    return dissection


def _located(sender: str, raw: RawRecord, stream: Stream) -> Record:
    frame, time = stream.locate(raw.offset)
    return Record(0, sender, raw.content_type, len(raw.fragment), frame, time, raw)


def _number_records(dissection: Dissection, per_sender: dict[str, list[Record]]) -> None:
    def wire_order(record: Record):
        return (record.frame if record.frame is not None else 0, record.sender != "client", record.raw.offset)

    ordered = sorted(per_sender["client"] + per_sender["server"], key=wire_order)
    for number, record in enumerate(ordered, start=1):
        record.number = number
    dissection.records = ordered


def _leading_handshake(records: list[Record]) -> list[bytes]:
    """Return the whole handshake messages at the start of a direction, before anything encrypted."""
    buffer = b""
    for record in records:
        if record.content_type == names.CHANGE_CIPHER_SPEC:
            continue
        if record.content_type != names.HANDSHAKE:
            break
        buffer += record.raw.fragment
    messages, _ = split_handshake_messages(buffer)
    return messages


def _read_client_hello(dissection: Dissection, records: list[Record]) -> None:
    for message in _leading_handshake(records):
        if message[0] == names.CLIENT_HELLO:
            try:
                dissection.client_hello = parse_client_hello(message[4:])
            except ParseError as error:
                dissection.problems.append(f"the ClientHello cannot be read: {error}")
            return


def _read_server_hello(dissection: Dissection, records: list[Record]) -> None:
    for message in _leading_handshake(records):
        if message[0] != names.SERVER_HELLO:
            continue
        try:
            hello = parse_server_hello(message[4:])
        except ParseError as error:
            dissection.problems.append(f"the ServerHello cannot be read: {error}")
            return
        if hello.random == names.HELLO_RETRY_REQUEST_RANDOM:
            dissection.hello_retry = True
            continue
        dissection.server_hello = hello
        versions = hello.supported_versions
        dissection.version = versions[0] if versions else hello.legacy_version
        dissection.suite_code = hello.cipher_suites[0]
        dissection.suite = CIPHER_SUITES.get(dissection.suite_code)
        return


class _DirectionReader:
    """Read the records one side sent, decrypting and reassembling handshake messages in order."""

    def __init__(self, dissection: Dissection, sender: str, keylog: KeyLog | None):
        self.dissection = dissection
        self.sender = sender
        self.keylog = keylog
        self.encrypted = False  # TLS 1.2: after this side's ChangeCipherSpec
        self.tls12_key = None
        self.tls13_keys: list[Tls13RecordKey] = []
        self.tls13_labels: list[str] = []
        self.key_index = 0
        self.buffer = b""
        self.buffer_starts: list[tuple[int, Record, bool]] = []
        self.finished_named = False

    def read(self, records: list[Record]) -> None:
        for record in records:
            try:
                self._read_record(record)
            except ParseError as error:
                self.dissection.problems.append(f"{ARROWS[self.sender]}, record {record.number}: {error}")
        if self.buffer:
            self.dissection.problems.append(
                f"{ARROWS[self.sender]}: {len(self.buffer)} bytes of an unfinished handshake message at the end"
            )

    def _read_record(self, record: Record) -> None:
        content_type = record.content_type
        tls13 = self.dissection.tls13
        if content_type == names.CHANGE_CIPHER_SPEC:
            self._add(record, "ChangeCipherSpec", content_type, record.raw.fragment, encrypted=False)
            if not tls13:
                self.encrypted = True
                self.tls12_key = self._tls12_key()
            return
        # Application data is never sent in the clear. Other content types are protected in
        # TLS 1.2 after the sender's ChangeCipherSpec. TLS 1.3 sends them as application_data.
        protected = self.encrypted or content_type == names.APPLICATION_DATA
        if not protected:
            record.decrypted = None
            self._content(record, content_type, record.raw.fragment, encrypted=False)
            return

        result = self._decrypt(record)
        record.decrypted = result is not None
        if result is None:
            self._add_undecrypted(record)
            return
        inner_type, content = result
        self._content(record, inner_type, content, encrypted=True)

    def _content(self, record: Record, content_type: int, content: bytes, encrypted: bool) -> None:
        if content_type == names.HANDSHAKE:
            self._handshake(record, content, encrypted)
        elif content_type == names.ALERT:
            level, description = parse_alert(content)
            alert = alert_from_code(description)
            details = {"level": names.ALERT_LEVELS.get(level, str(level)), "description": alert.name, "code": alert.code}
            self._add(record, "Alert", content_type, content, encrypted, details=details, parsed=alert)
        elif content_type == names.APPLICATION_DATA:
            self._add(record, "application_data", content_type, b"", encrypted, details={"length": len(content)})
        elif content_type == 24:
            self._add(record, "heartbeat", content_type, b"", encrypted)
        else:
            self._add(record, f"content type {content_type}", content_type, b"", encrypted)

    def _handshake(self, record: Record, content: bytes, encrypted: bool) -> None:
        self.buffer_starts.append((len(self.buffer), record, encrypted))
        self.buffer += content
        messages, rest = split_handshake_messages(self.buffer)
        offset = 0
        for raw in messages:
            start_record, start_encrypted = self._record_at(offset)
            self._handshake_message(start_record, raw, start_encrypted)
            offset += len(raw)
        consumed = len(self.buffer) - len(rest)
        self.buffer = rest
        self.buffer_starts = [(start - consumed, rec, enc) for start, rec, enc in self.buffer_starts if start >= consumed]
        if rest and not self.buffer_starts:
            self.buffer_starts = [(0, record, encrypted)]

    def _record_at(self, offset: int) -> tuple[Record, bool]:
        chosen = self.buffer_starts[0]
        for start, record, encrypted in self.buffer_starts:
            if start <= offset:
                chosen = (start, record, encrypted)
        return chosen[1], chosen[2]

    def _handshake_message(self, record: Record, raw: bytes, encrypted: bool) -> None:
        handshake_type = raw[0]
        name = names.HANDSHAKE_TYPES.get(handshake_type, f"handshake type {handshake_type}")
        details: dict = {"length": len(raw) - 4}
        parsed = None
        body = raw[4:]
        tls13 = self.dissection.tls13
        try:
            if handshake_type == names.CLIENT_HELLO:
                parsed = parse_client_hello(body)
                details.update(describe_hello(parsed, client=True))
            elif handshake_type == names.SERVER_HELLO:
                parsed = parse_server_hello(body)
                if parsed.random == names.HELLO_RETRY_REQUEST_RANDOM:
                    name = "HelloRetryRequest"
                details.update(describe_hello(parsed, client=False))
            elif handshake_type == names.CERTIFICATE:
                parsed = self._certificates(parse_certificate(body, tls13), details)
            elif handshake_type == names.CERTIFICATE_VERIFY:
                scheme, signature = parse_certificate_verify(body)
                parsed = (scheme, signature)
                details["signature_scheme"] = names.name_of(names.SIGNATURE_SCHEMES, scheme)
            elif handshake_type == names.SERVER_KEY_EXCHANGE:
                parsed = parse_server_key_exchange(body)
                details["group"] = parsed.group
                details["signature_scheme"] = names.name_of(names.SIGNATURE_SCHEMES, parsed.scheme)
            elif handshake_type == names.CERTIFICATE_REQUEST:
                details.update(parse_certificate_request(body, tls13))
            elif handshake_type == names.KEY_UPDATE and self.tls13_keys:
                self._prepare_key_update()
        except ParseError as error:
            details["problem"] = str(error)
            self.dissection.problems.append(f"{ARROWS[self.sender]}, record {record.number}: {name}: {error}")
        self._add(record, name, names.HANDSHAKE, raw, encrypted, handshake_type, details, parsed)

    def _certificates(self, ders: list[bytes], details: dict) -> list[x509.Certificate]:
        certificates = []
        subjects = []
        for der in ders:
            try:
                certificate = x509.load_der_x509_certificate(der)
            except ValueError:
                subjects.append("(a certificate that cannot be parsed)")
                continue
            certificates.append(certificate)
            subjects.append(describe_certificate(certificate))
        details["certificates"] = subjects
        return certificates

    def _add(self, record, name, content_type, raw, encrypted, handshake_type=None, details=None, parsed=None, decrypted=True):
        message = Message(
            name,
            self.sender,
            record.number,
            record.frame,
            record.time,
            content_type,
            encrypted,
            handshake_type,
            raw,
            details or {},
            parsed,
            decrypted,
        )
        self.dissection.messages.append(message)

    def _add_undecrypted(self, record: Record) -> None:
        """Add a record the keys did not decrypt, named as far as its outer content type shows."""
        details = {"outer_content_type": names.CONTENT_TYPES.get(record.content_type), "length": record.length}
        name = UNDECRYPTED
        if self.encrypted:
            # TLS 1.2 keeps the real content type outside, and RFC 5246 section 7.4.9 puts
            # Finished right after ChangeCipherSpec, so the first encrypted handshake record is it.
            if record.content_type == names.HANDSHAKE:
                name = "encrypted handshake message" if self.finished_named else "Finished"
                self.finished_named = True
            elif record.content_type == names.ALERT:
                name = "Alert"
            elif record.content_type == names.APPLICATION_DATA:
                name = "application_data"
        self._add(record, name, record.content_type, b"", True, details=details, decrypted=False)

    # --- decryption ---------------------------------------------------------------------

    def _decrypt(self, record: Record) -> tuple[int, bytes] | None:
        dissection = self.dissection
        if dissection.suite is None:
            self._reason(f"cipher suite {dissection.suite_name or 'unknown'} is not one the kit can decrypt")
            return None
        if not dissection.secrets:
            return None
        if dissection.tls13:
            return self._decrypt_tls13(record)
        if self.tls12_key is None:
            return None
        try:
            return record.content_type, self.tls12_key.decrypt(record.raw.header, record.raw.fragment)
        except DecryptionError as error:
            self._reason(f"the master secret does not decrypt record {record.number} ({error})")
            return None

    def _decrypt_tls13(self, record: Record) -> tuple[int, bytes] | None:
        if not self.tls13_keys:
            self._load_tls13_keys()
        for index in range(self.key_index, len(self.tls13_keys)):
            key = self.tls13_keys[index]
            try:
                result = key.decrypt(record.raw.header, record.raw.fragment)
            except DecryptionError:
                continue
            self.key_index = index
            return result
        self._reason(f"no traffic secret in the key log decrypts record {record.number}")
        return None

    def _load_tls13_keys(self) -> None:
        suite = self.dissection.suite
        for label in _TLS13_LABELS[self.sender]:
            secret = self.dissection.secrets.get(label)
            if secret is not None:
                self.tls13_keys.append(Tls13RecordKey(suite, secret, label))
        if not self.tls13_keys:
            self._reason(f"the key log has no {self.sender} traffic secrets for this connection")

    def _prepare_key_update(self) -> None:
        # NOTE: no test drives a KeyUpdate or 0-RTT early data, because Python's ssl module
        # cannot send either; both rely on the trial decryption in _decrypt_tls13.
        current = self.tls13_keys[self.key_index]
        secret = next_traffic_secret(current.secret, self.dissection.suite.hash_name)
        self.tls13_keys.append(Tls13RecordKey(self.dissection.suite, secret, current.label + " (updated)"))

    def _tls12_key(self):
        dissection = self.dissection
        master_secret = dissection.secrets.get("CLIENT_RANDOM")
        suite = dissection.suite
        if master_secret is None or suite is None or suite.tls13:
            return None
        if dissection.client_hello is None or dissection.server_hello is None:
            return None
        encrypt_then_mac = (
            names.EXT_ENCRYPT_THEN_MAC in dissection.client_hello.extensions
            and names.EXT_ENCRYPT_THEN_MAC in dissection.server_hello.extensions
        )
        client_key, server_key = tls12_record_keys(
            suite, master_secret, dissection.client_hello.random, dissection.server_hello.random, encrypt_then_mac
        )
        return client_key if self.sender == "client" else server_key

    def _reason(self, text: str) -> None:
        if text not in self.dissection.problems:
            self.dissection.problems.append(text)


def _summarize_decryption(dissection: Dissection, keylog: KeyLog | None) -> None:
    protected = [record for record in dissection.records if record.decrypted is not None]
    if not protected:
        dissection.decryption = "not needed: no encrypted record"
        return
    failed = [record for record in protected if not record.decrypted]
    if not failed:
        dissection.decryption = "decrypted with the key log"
        return
    if keylog is None:
        reason = "no key log given (pass --keylog with the file SSLKEYLOGFILE or -keylogfile wrote)"
    elif dissection.client_hello is None:
        reason = "the ClientHello is missing, so the key log entry cannot be found"
    elif not dissection.secrets:
        random = dissection.client_hello.random.hex()
        reason = f"the key log has no secrets for this connection's client random {random[:16]}..."
    elif dissection.suite is None:
        reason = f"cipher suite {dissection.suite_name} is not one the kit can decrypt"
    else:
        reason = "the key log's secrets for this connection do not decrypt its records (wrong key log?)"
    if len(failed) < len(protected):
        dissection.decryption = f"could not decrypt {len(failed)} of {len(protected)} encrypted records: {reason}"
    else:
        dissection.decryption = f"could not decrypt: {reason}"
