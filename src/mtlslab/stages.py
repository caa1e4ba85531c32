"""Map a dissected connection to the six stages of an mTLS handshake.

1. ClientHello: the client offers versions, cipher suites and key shares.
2. ServerHello and server Certificate: the server chooses, requests a client certificate
   (CertificateRequest) and presents its own chain.
3. Server verification by the client: the client checks the server's chain and its
   proof of key possession (TLS 1.3 CertificateVerify and Finished, TLS 1.2
   ServerKeyExchange signature).
4. Client Certificate: the client presents its chain (TLS 1.2 adds its key exchange).
5. Client verification by the server: the server checks the client's chain, its
   CertificateVerify and its Finished.
6. Secure channel: session tickets, application data and closure (in TLS 1.2 also the
   server's ChangeCipherSpec and Finished, which come last).

Stages 3 and 5 happen inside the peers, so their evidence is the messages that prove key
possession, the alert a peer sends when it rejects, and the kit's own re-run of each check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509

from mtlslab.alerts import Alert
from mtlslab.dissect import UNDECRYPTED, Dissection, Message
from mtlslab.evidence import Check, check_certificate_verify, check_chain, check_finished, check_server_key_exchange
from mtlslab.tls import names

STAGE_TITLES = {
    1: "ClientHello",
    2: "ServerHello and server Certificate",
    3: "server verification by the client",
    4: "client Certificate",
    5: "client verification by the server",
    6: "secure channel",
}
COMPLETE, FAILED, NOT_REACHED, NOT_VISIBLE = "complete", "failed", "not reached", "not visible"
PARTLY_VISIBLE, SKIPPED, INCOMPLETE = "partly visible", "skipped", "incomplete"

# Alerts that close a connection rather than report an error (RFC 8446 section 6.1).
_CLOSURE_ALERTS = {0, 90}

_SERVER_STAGES_13 = {
    "HelloRetryRequest": 1,
    "ServerHello": 2,
    "ChangeCipherSpec": 2,
    "EncryptedExtensions": 2,
    "CertificateRequest": 2,
    "Certificate": 2,
    "CertificateStatus": 2,
    "CertificateVerify": 3,
    "Finished": 3,
}
_SERVER_STAGES_12 = {
    "HelloRequest": 6,
    "ServerHello": 2,
    "Certificate": 2,
    "CertificateStatus": 2,
    "CertificateRequest": 2,
    "ServerHelloDone": 2,
    "ServerKeyExchange": 3,
    "ChangeCipherSpec": 6,
    "Finished": 6,
}
_CLIENT_STAGES = {
    "ClientHello": 1,
    "Certificate": 4,
    "ClientKeyExchange": 4,
    "EndOfEarlyData": 4,
    "CertificateVerify": 5,
    "Finished": 5,
}


@dataclass
class AlertEvent:
    """An alert on the wire: which alert (None when it could not be decrypted), who sent it, where."""

    alert: Alert | None
    level: str | None
    sender: str
    record: int
    frame: int | None
    stage: int
    fatal: bool = True
    inferred: bool = False  # the stage comes from the alert's position, not from decrypted messages

    def __str__(self) -> str:
        what = str(self.alert) if self.alert else "an encrypted alert"
        return f"{self.sender} sent {what} in record {self.record}"


@dataclass
class Stage:
    """One of the six stages: its status, messages, alert, re-run checks and notes."""

    number: int
    status: str = NOT_REACHED
    messages: list[Message] = field(default_factory=list)
    alert: AlertEvent | None = None
    evidence: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.number]


@dataclass
class ConnectionStages:
    """A connection's six stages and its outcome."""

    dissection: Dissection
    stages: list[Stage]
    alerts: list[AlertEvent]
    stopped_at: int | None
    handshake: str
    outcome: str
    undecrypted: list[Message] = field(default_factory=list)
    peers: dict[str, str] = field(default_factory=dict)

    def stage(self, number: int) -> Stage:
        return self.stages[number - 1]


def map_stages(
    dissection: Dissection,
    *,
    client_anchors: list[x509.Certificate] | None = None,
    server_anchors: list[x509.Certificate] | None = None,
    server_name: str | None = None,
    peer_reports: dict | None = None,
) -> ConnectionStages:
    """Assign every message of ``dissection`` to a stage, run the stage 3 and 5 checks and judge each stage.

    ``client_anchors`` are what the client trusts (to re-verify the server's chain) and
    ``server_anchors`` what the server trusts (to re-verify the client's chain).
    ``peer_reports`` maps client and server to what each peer reported, when the kit
    recorded the connection itself.
    """
    stages = [Stage(number) for number in range(1, 7)]
    alerts = _assign(dissection, stages)
    undecrypted = [m for m in dissection.messages if m.name == UNDECRYPTED]
    fatal = next((event for event in alerts if event.fatal), None)
    stopped_at = fatal.stage if fatal else None

    _add_evidence(dissection, stages, client_anchors, server_anchors, server_name)
    handshake = _handshake_state(dissection, fatal, undecrypted)
    if handshake == "incomplete" and stopped_at is None:
        stopped_at = _first_missing_stage(dissection, stages)
    _judge(dissection, stages, stopped_at, undecrypted)
    if fatal is not None:
        stages[fatal.stage - 1].alert = fatal
        _explain_failure(dissection, stages[fatal.stage - 1], fatal)

    result = ConnectionStages(
        dissection,
        stages,
        alerts,
        stopped_at,
        handshake,
        _outcome(dissection, stages, handshake, fatal, stopped_at),
        undecrypted,
    )
    if peer_reports:
        result.peers = {role: str(report) for role, report in peer_reports.items()}
        _add_peer_notes(result, peer_reports)
    return result


def _assign(dissection: Dissection, stages: list[Stage]) -> list[AlertEvent]:
    """Give each message its stage, following the handshake's progress; return the alerts."""
    server_table = _SERVER_STAGES_13 if dissection.tls13 else _SERVER_STAGES_12
    seen: set[tuple[str, str]] = set()
    alerts = []
    for message in dissection.messages:
        if message.name == UNDECRYPTED:
            if message.sender == "server" and ("server", "ServerHello") in seen:
                seen.add(("server", UNDECRYPTED))
            continue
        if message.name == "Alert":
            event = _alert_event(message, seen)
            alerts.append(event)
            message.stage = event.stage
        elif message.sender == "server":
            message.stage = server_table.get(message.name, 6)
            if ("client", "Finished") in seen:
                # The server sent something after the client's Finished, so it accepted the client.
                seen.add(("server", "accepted client"))
        elif message.name == "ChangeCipherSpec":
            message.stage = 4 if dissection.tls13 else 5
        else:
            message.stage = _CLIENT_STAGES.get(message.name, 6)
        seen.add((message.sender, message.name))
        stages[message.stage - 1].messages.append(message)
    return alerts


def _alert_event(message: Message, seen: set) -> AlertEvent:
    """Place an alert in the stage it ends: the stage its sender was judging when it sent the alert."""
    alert = message.parsed if message.decrypted else None
    level = message.details.get("level")
    accepted = ("server", "accepted client") in seen
    if alert is not None:
        fatal = alert.code not in _CLOSURE_ALERTS
    else:
        # NOTE: the code of an alert that was not decrypted is unknown. Once both sides have
        # finished the handshake it is taken for close_notify, before that for a fatal alert.
        fatal = not accepted
    client_flight = any(("client", name) in seen for name in ("Certificate", "ClientKeyExchange", "Finished"))
    inferred = False
    if not fatal and accepted:
        stage = 6
    elif message.sender == "server":
        if ("server", "ServerHello") not in seen:
            stage = 1
        elif not client_flight:
            stage = 2
        elif accepted:
            stage = 6
        else:
            stage = 5
    elif not client_flight:
        server_flight = ("server", "Certificate") in seen or ("server", "Finished") in seen
        inferred = not server_flight and _rejects_encrypted_flight(message, seen)
        stage = 3 if server_flight or inferred else 2
    else:
        stage = 6
    return AlertEvent(alert, level, message.sender, message.record, message.frame, stage, fatal, inferred)


def _rejects_encrypted_flight(message: Message, seen: set) -> bool:
    """True for a cleartext client alert that follows a TLS 1.3 server flight the dissector could not decrypt.

    A TLS 1.3 server sends ServerHello and its whole encrypted first flight (EncryptedExtensions up to
    Finished) without waiting for the client. OpenSSL's client sends an alert about that flight in
    cleartext because it has not switched its write keys yet, so such an alert means the client rejected
    the server: stage 3.
    """
    # NOTE: without the key log the records' contents are unknown. An alert about ServerHello itself,
    # rarer than a certificate rejection, sits after the same records and is placed in stage 3 too.
    return message.sender == "client" and not message.encrypted and ("server", UNDECRYPTED) in seen


def _capture_time(dissection: Dissection, sender: str) -> dt.datetime:
    message = dissection.find("Certificate", sender)
    if message is None or not message.time:
        return dt.datetime.now(dt.timezone.utc)
    return dt.datetime.fromtimestamp(message.time, dt.timezone.utc)


def _add_evidence(dissection, stages, client_anchors, server_anchors, server_name) -> None:
    name = server_name or dissection.server_name
    server_checks = [
        check_chain(dissection, "server", client_anchors, _capture_time(dissection, "server"), name),
        check_server_key_exchange(dissection),
        check_certificate_verify(dissection, "server"),
        check_finished(dissection, "server"),
    ]
    client_checks = [
        check_chain(dissection, "client", server_anchors, _capture_time(dissection, "client")),
        check_certificate_verify(dissection, "client"),
        check_finished(dissection, "client"),
    ]
    stages[2].evidence = [check for check in server_checks if check is not None]
    stages[4].evidence = [check for check in client_checks if check is not None]
    if not dissection.tls13 and dissection.find("Finished", "server") is not None:
        # In TLS 1.2 the server's Finished is in stage 6, and its check goes with it.
        finished = [check for check in stages[2].evidence if check.name == "server Finished"]
        stages[2].evidence = [check for check in stages[2].evidence if check.name != "server Finished"]
        stages[5].evidence = finished


def _handshake_state(dissection: Dissection, fatal: AlertEvent | None, undecrypted: list[Message]) -> str:
    if fatal is not None:
        return "failed"
    finished = {m.sender for m in dissection.messages if m.name == "Finished"}
    if finished == {"client", "server"}:
        return "complete"
    if undecrypted:
        return "not visible"
    return "incomplete"


def _first_missing_stage(dissection: Dissection, stages: list[Stage]) -> int:
    requested = dissection.find("CertificateRequest", "server") is not None
    for stage in stages:
        if stage.number in (4, 5) and not requested:
            continue
        if stage.number == 3 and not dissection.tls13 and stages[3].messages:
            continue  # TLS 1.2 with RSA key exchange has no stage 3 message
        if not stage.messages:
            return stage.number
    return 6


def _resumed(dissection: Dissection) -> bool:
    """True for a resumed session: TLS 1.3 with an accepted PSK, or TLS 1.2 without the server's certificate flight."""
    hello = dissection.server_hello
    if hello is None:
        return False
    if dissection.tls13:
        return names.EXT_PRE_SHARED_KEY in hello.extensions
    return dissection.find("Finished", "server") is not None and dissection.find("ServerHelloDone", "server") is None


def _judge(dissection: Dissection, stages: list[Stage], stopped_at: int | None, undecrypted: list[Message]) -> None:
    requested = dissection.find("CertificateRequest", "server") is not None
    hidden = bool(undecrypted) and dissection.tls13
    resumed = _resumed(dissection)
    for stage in stages:
        if stage.number == stopped_at:
            stage.status = FAILED
        elif stopped_at is not None and stage.number > stopped_at:
            stage.status = INCOMPLETE if stage.messages else NOT_REACHED
            if stage.messages:
                stage.notes.append("these messages were sent before the failure was known; the peer did not accept them")
        elif hidden and stage.number >= 2:
            stage.status = PARTLY_VISIBLE if stage.messages else NOT_VISIBLE
            stage.notes.append(
                "TLS 1.3 encrypts every handshake message after ServerHello; pass the key log to see this stage"
            )
        elif stage.number in (4, 5) and resumed and not requested:
            stage.status = SKIPPED
            stage.notes.append(
                "resumed session: both peers prove themselves with secrets of an earlier, certificate-based "
                "handshake, so no certificate is sent"
            )
        elif stage.number in (4, 5) and not requested:
            stage.status = SKIPPED
            stage.notes.append("the server sent no CertificateRequest, so the client does not authenticate: one-way TLS")
        elif stage.messages or (stage.number == 3 and stages[3].messages):
            stage.status = COMPLETE
        else:
            stage.status = NOT_REACHED

    client_certificate = dissection.find("Certificate", "client")
    if client_certificate is not None and client_certificate.decrypted and not dissection.certificates("client"):
        stages[3].notes.append("the client sent an empty Certificate message: it has no certificate to present")
    if not dissection.tls13 and stages[2].status == COMPLETE and not stages[2].messages:
        stages[2].notes.append(
            "RSA key exchange: no ServerKeyExchange is signed; the server proves its key by decrypting the "
            "ClientKeyExchange, which its Finished confirms"
        )


def _explain_failure(dissection: Dissection, stage: Stage, fatal: AlertEvent) -> None:
    if fatal.alert is None:
        stage.notes.append(f"the {fatal.sender} sent an alert that could not be decrypted")
        return
    if fatal.inferred:
        stage.notes.append(
            f"inferred without the key log: the client sent {fatal.alert} in cleartext after the server's encrypted "
            "flight, so it rejected the server's Certificate, CertificateVerify or Finished; pass the key log to see "
            "the messages of this stage"
        )
    client_done = any(m.name == "Finished" and m.sender == "client" and m.record < fatal.record for m in dissection.messages)
    if dissection.tls13 and fatal.sender == "server" and client_done:
        stage.notes.append(
            f"the client had already sent its Finished, so its handshake was complete when {fatal.alert} arrived: "
            "in TLS 1.3 a client learns that the server rejected it only on its first read "
            "(RFC 8446 section 2, Figure 1, and the client state machine in appendix A.1, which enters CONNECTED "
            "once the client has sent its Finished)"
        )


def _outcome(dissection, stages, handshake, fatal, stopped_at) -> str:
    if handshake == "complete":
        checks = [check for stage in stages for check in stage.evidence if check.name.endswith("Finished")]
        if len(checks) == 2 and all(check.result == "passed" for check in checks):
            return "handshake complete: both sides sent Finished, and both verify_data values match the key log"
        return "handshake complete: both sides sent Finished"
    if fatal is not None:
        what = str(fatal.alert) if fatal.alert else "an alert that could not be decrypted"
        return f"failed at stage {fatal.stage} ({STAGE_TITLES[fatal.stage]}): the {fatal.sender} sent {what}"
    if handshake == "not visible":
        return f"not visible: {dissection.decryption}"
    title = STAGE_TITLES[stopped_at]
    return f"incomplete: stage {stopped_at} ({title}) did not happen before the connection or capture ended, and no alert was seen"


def _add_peer_notes(result: ConnectionStages, peer_reports: dict) -> None:
    for role, report in peer_reports.items():
        if getattr(report, "error", None) is None:
            continue
        text = f"the {role} raised {report.error_type}: {report.error} (during {report.error_phase})"
        target = result.stopped_at or 6
        result.stage(target).notes.append(text)
