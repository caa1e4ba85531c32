"""Dissection of recorded handshakes: stages, alerts, re-run checks, decryption and odd input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import shutil
import subprocess

import pytest

from mtlslab.dissect import dissect_connection
from mtlslab.evidence import check_certificate_verify, check_chain, check_finished, check_server_key_exchange
from mtlslab.packets import decode_segment
from mtlslab.pcap import Capture, Frame, write_capture
from mtlslab.pki import CertificateAuthority, client_context, server_context
from mtlslab.record import record_handshake
from mtlslab.report import analyze_frames, analyze_transcript
from mtlslab.tcpstream import Flight, build_connection, reassemble
from mtlslab.tls.keylog import KeyLog

requires_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

PAST = dt.timedelta(days=3)


def _record(server, client, server_trust, client_trust, version):
    return record_handshake(
        server_context(server, server_trust, tls_version=version),
        client_context(client_trust, client, tls_version=version),
    )


def _stages(transcript):
    return analyze_transcript(transcript).connections[0]


def _names(report, number):
    return [message.name for message in report.stage(number).messages]


def _frames(transcript, mss=1460):
    return [Frame(n, t, 1, d) for n, (t, d) in enumerate(transcript.pcap_frames(mss), start=1)]


def _dissect(transcript, keylog="own", mss=1460):
    (connection,), _ = reassemble(_frames(transcript, mss))
    text = transcript.keylog if keylog == "own" else keylog
    return dissect_connection(connection, KeyLog.parse(text) if text is not None else None)


@pytest.fixture(scope="module")
def tls13(server, client, root):
    return _record(server, client, root, root, "1.3")


@pytest.fixture(scope="module")
def tls12(server, client, root):
    return _record(server, client, root, root, "1.2")


# --- stage mapping of successful handshakes -----------------------------------------------


def test_tls13_stage_messages(tls13):
    report = _stages(tls13)
    assert _names(report, 1) == ["ClientHello"]
    assert _names(report, 2) == ["ServerHello", "ChangeCipherSpec", "EncryptedExtensions", "CertificateRequest", "Certificate"]
    assert _names(report, 3) == ["CertificateVerify", "Finished"]
    assert _names(report, 4) == ["ChangeCipherSpec", "Certificate"]
    assert _names(report, 5) == ["CertificateVerify", "Finished"]
    assert "NewSessionTicket" in _names(report, 6)
    assert "application_data" in _names(report, 6)


def test_tls12_stage_messages(tls12):
    report = _stages(tls12)
    assert _names(report, 1) == ["ClientHello"]
    assert _names(report, 2) == ["ServerHello", "Certificate", "CertificateRequest", "ServerHelloDone"]
    assert _names(report, 3) == ["ServerKeyExchange"]
    assert _names(report, 4) == ["Certificate", "ClientKeyExchange"]
    assert _names(report, 5) == ["CertificateVerify", "ChangeCipherSpec", "Finished"]
    assert _names(report, 6)[:3] == ["NewSessionTicket", "ChangeCipherSpec", "Finished"]


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_success_every_stage_complete(fixture, request):
    report = _stages(request.getfixturevalue(fixture))
    assert [stage.status for stage in report.stages] == ["complete"] * 6
    assert report.handshake == "complete"
    assert report.stopped_at is None


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_success_every_check_passes(fixture, request):
    report = _stages(request.getfixturevalue(fixture))
    checks = [check for stage in report.stages for check in stage.evidence]
    assert len(checks) == 6 if fixture == "tls13" else 5
    for check in checks:
        assert check.result == "passed", str(check)


def test_directions_and_record_numbers(tls13):
    report = _stages(tls13)
    hello = report.stage(1).messages[0]
    server_hello = report.stage(2).messages[0]
    assert (hello.direction, hello.record) == ("client -> server", 1)
    assert (server_hello.direction, server_hello.record) == ("server -> client", 2)
    records = [m.record for stage in report.stages for m in stage.messages]
    assert sorted(records) == list(range(1, max(records) + 1))


def test_one_way_tls_skips_client_stages(server, root):
    transcript = record_handshake(
        server_context(server, require_client_certificate=False, tls_version="1.3"),
        client_context(root, None, tls_version="1.3"),
    )
    report = _stages(transcript)
    assert report.stage(4).status == "skipped"
    assert report.stage(5).status == "skipped"
    assert report.handshake == "complete"


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_resumed_session_skips_certificates(server, client, root, version):
    server_ctx = server_context(server, root, tls_version=version)
    client_ctx = client_context(root, client, tls_version=version)
    first = record_handshake(server_ctx, client_ctx)
    resumed = record_handshake(server_ctx, client_ctx, session=first.session)
    report = _stages(resumed)
    assert resumed.client.peer_certificate is not None  # the session remembers the server's certificate
    assert "Certificate" not in _names(report, 2)
    assert report.stage(4).status == "skipped"
    assert "resumed session" in report.stage(4).notes[0]
    assert report.handshake == "complete"


def test_full_handshake_not_resumed(tls13):
    assert "resumed session" not in " ".join(_stages(tls13).stage(4).notes)


# --- failures: the stage where the handshake stops and the alert on the wire --------------


def _scenario(name, intermediate, root, other_root):
    past = dt.datetime.now(dt.timezone.utc) - PAST
    server = intermediate.issue_server("localhost")
    client = intermediate.issue_client("client", spiffe_id="spiffe://test.local/ns/demo/sa/client")
    if name == "unknown CA for the server":
        return server, client, root, other_root
    if name == "unknown CA for the client":
        return server, other_root.issue_client("client", spiffe_id="spiffe://other.local/sa/c"), root, root
    if name == "expired server certificate":
        return intermediate.issue_server("localhost", valid_from=past, lifetime=dt.timedelta(days=1)), client, root, root
    if name == "expired client certificate":
        expired = intermediate.issue_client("client", valid_from=past, lifetime=dt.timedelta(days=1))
        return server, expired, root, root
    if name == "missing client certificate":
        return server, None, root, root
    if name == "wrong extended key usage":
        return server, intermediate.issue_client("client", extended_key_usage=("serverAuth",)), root, root
    raise AssertionError(name)


FAILURES = [
    # (scenario, version, stage, sender, alert code)
    ("unknown CA for the server", "1.3", 3, "client", 48),
    ("unknown CA for the server", "1.2", 3, "client", 48),
    ("unknown CA for the client", "1.3", 5, "server", 48),
    ("unknown CA for the client", "1.2", 5, "server", 48),
    ("expired server certificate", "1.3", 3, "client", 45),
    ("expired server certificate", "1.2", 3, "client", 45),
    ("expired client certificate", "1.3", 5, "server", 45),
    ("expired client certificate", "1.2", 5, "server", 45),
    ("missing client certificate", "1.3", 5, "server", 116),
    ("missing client certificate", "1.2", 5, "server", 40),
    ("wrong extended key usage", "1.3", 5, "server", 43),
    ("wrong extended key usage", "1.2", 5, "server", 43),
]


@pytest.fixture(scope="module")
def failures(intermediate, root, other_root):
    results = {}
    for name, version, *_ in FAILURES:
        server, client, server_trust, client_trust = _scenario(name, intermediate, root, other_root)
        results[name, version] = _stages(_record(server, client, server_trust, client_trust, version))
    return results


@pytest.mark.parametrize(("name", "version", "stage", "sender", "code"), FAILURES)
def test_failure_stops_at_stage(failures, name, version, stage, sender, code):
    report = failures[name, version]
    assert report.stopped_at == stage
    assert report.stage(stage).status == "failed"
    assert report.handshake == "failed"


@pytest.mark.parametrize(("name", "version", "stage", "sender", "code"), FAILURES)
def test_failure_alert_on_wire(failures, name, version, stage, sender, code):
    alert = failures[name, version].stage(stage).alert
    assert alert.alert.code == code
    assert alert.sender == sender
    assert alert.level == "fatal"


@pytest.mark.parametrize(("name", "version", "stage", "sender", "code"), FAILURES)
def test_failure_later_stages_not_reached(failures, name, version, stage, sender, code):
    report = failures[name, version]
    for later in report.stages[stage:]:
        assert later.status in ("not reached", "incomplete")


@pytest.mark.parametrize(
    ("name", "version"),
    [(n, v) for n, v, *_ in FAILURES if n != "missing client certificate"],
)
def test_failure_chain_recheck_fails(failures, name, version):
    report = failures[name, version]
    stage = 3 if "server" in name else 5
    chain = next(check for check in report.stage(stage).evidence if check.name.endswith("certificate chain"))
    assert chain.result == "failed", str(chain)


def test_certificate_required_after_client_finished(failures):
    report = failures["missing client certificate", "1.3"]
    names = [(m.sender, m.name) for m in report.dissection.messages]
    assert names.index(("client", "Finished")) < names.index(("server", "Alert"))
    assert any("learns that the server rejected it only on its first read" in note for note in report.stage(5).notes)


def test_certificate_required_client_report(failures):
    report = failures["missing client certificate", "1.3"]
    assert "TLSV13_ALERT_CERTIFICATE_REQUIRED" in report.peers["client"]
    assert "after its handshake completed" in report.peers["client"]


def test_empty_client_certificate_noted(failures):
    report = failures["missing client certificate", "1.2"]
    assert any("empty Certificate" in note for note in report.stage(4).notes)


def test_tls13_client_stage3_alert_in_clear(failures):
    """OpenSSL's client switches its write keys only after the server's Finished, so this alert is plaintext."""
    alert = next(m for m in failures["unknown CA for the server", "1.3"].dissection.messages if m.name == "Alert")
    assert not alert.encrypted


def test_tls13_server_stage5_alert_encrypted(failures):
    alert = next(m for m in failures["unknown CA for the client", "1.3"].dissection.messages if m.name == "Alert")
    assert alert.encrypted


# --- CertificateVerify, ServerKeyExchange and Finished re-checks --------------------------


@pytest.mark.parametrize(
    ("key_type", "version"),
    [("ecdsa-p256", "1.3"), ("ecdsa-p384", "1.3"), ("rsa2048", "1.3"), ("ed25519", "1.3"), ("rsa2048", "1.2"), ("ecdsa-p256", "1.2")],
)
def test_certificate_verify_passes_per_key_type(key_type, version):
    root = CertificateAuthority.create_root(key_type=key_type)
    server = root.issue_server("localhost", key_type=key_type)
    client = root.issue_client("client", key_type=key_type, spiffe_id="spiffe://test.local/sa/c")
    dissection = _dissect(_record(server, client, root, root, version))
    if version == "1.3":
        assert check_certificate_verify(dissection, "server").result == "passed"
    else:
        assert check_server_key_exchange(dissection).result == "passed"
    assert check_certificate_verify(dissection, "client").result == "passed"


def _flip_signature(dissection, name, sender):
    message = dissection.find(name, sender)
    if name == "ServerKeyExchange":
        exchange = message.parsed
        signature = bytearray(exchange.signature)
        signature[-1] ^= 0x01
        message.parsed = dataclasses.replace(exchange, signature=bytes(signature))
    else:
        scheme, signature = message.parsed
        flipped = bytearray(signature)
        flipped[-1] ^= 0x01
        message.parsed = (scheme, bytes(flipped))


@pytest.mark.parametrize("sender", ["server", "client"])
def test_certificate_verify_fails_flipped_signature(tls13, sender):
    dissection = _dissect(tls13)
    _flip_signature(dissection, "CertificateVerify", sender)
    assert check_certificate_verify(dissection, sender).result == "failed"


@pytest.mark.parametrize("sender", ["server", "client"])
def test_certificate_verify_fails_flipped_transcript(tls13, sender):
    dissection = _dissect(tls13)
    hello = dissection.find("ClientHello", "client")
    hello.raw = hello.raw[:20] + bytes([hello.raw[20] ^ 0x01]) + hello.raw[21:]
    assert check_certificate_verify(dissection, sender).result == "failed"


def test_tls12_client_certificate_verify_fails_flipped_byte(tls12):
    dissection = _dissect(tls12)
    _flip_signature(dissection, "CertificateVerify", "client")
    assert check_certificate_verify(dissection, "client").result == "failed"


def test_tls12_server_key_exchange_fails_flipped_byte(tls12):
    dissection = _dissect(tls12)
    _flip_signature(dissection, "ServerKeyExchange", "server")
    assert check_server_key_exchange(dissection).result == "failed"


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
@pytest.mark.parametrize("sender", ["server", "client"])
def test_finished_fails_flipped_byte(fixture, sender, request):
    dissection = _dissect(request.getfixturevalue(fixture))
    finished = next(m for m in dissection.handshake_messages(sender) if m.name == "Finished")
    finished.raw = finished.raw[:-1] + bytes([finished.raw[-1] ^ 0x01])
    assert check_finished(dissection, sender).result == "failed"


def test_hello_retry_request_transcript(server, client, root):
    server_ctx = server_context(server, root, tls_version="1.3")
    server_ctx.set_ecdh_curve("prime256v1")  # the client's default x25519 key share forces a HelloRetryRequest
    dissection = _dissect(record_handshake(server_ctx, client_context(root, client, tls_version="1.3")))
    assert dissection.hello_retry
    assert check_certificate_verify(dissection, "server").result == "passed"
    assert check_finished(dissection, "client").result == "passed"


def test_chain_recheck_wrong_anchor_fails(tls13, other_root):
    dissection = _dissect(tls13)
    at = dt.datetime.now(dt.timezone.utc)
    assert check_chain(dissection, "server", [other_root.certificate], at, "localhost").result == "failed"


def test_chain_recheck_wrong_name_fails(tls13, root):
    dissection = _dissect(tls13)
    at = dt.datetime.now(dt.timezone.utc)
    assert check_chain(dissection, "server", [root.certificate], at, "other.example").result == "failed"


def test_chain_recheck_names_missing_intermediate(server, intermediate, root):
    client = intermediate.issue_client("client", spiffe_id="spiffe://test.local/sa/c")
    leaf_only = dataclasses.replace(client, chain=())
    report = _stages(_record(server, leaf_only, root, root, "1.3"))
    chain = report.stage(5).evidence[0]
    assert report.stage(5).alert.alert.code == 48
    assert chain.result == "failed"
    assert "sent only its own certificate" in chain.detail


def test_chain_recheck_without_anchor_not_checked(tls13):
    dissection = _dissect(tls13)
    check = check_chain(dissection, "client", None, dt.datetime.now(dt.timezone.utc))
    assert check.result == "not checked"
    assert "--ca" in check.detail


def test_chain_recheck_after_expiry_fails(tls13):
    dissection = _dissect(tls13)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    assert check_chain(dissection, "client", None, later).result == "failed"


# --- decryption and key logs --------------------------------------------------------------


def test_tls13_without_keylog_hides_stages(tls13):
    report = analyze_frames(Capture(_frames(tls13)), "capture", None).connections[0]
    assert report.dissection.decryption.startswith("could not decrypt: no key log given")
    assert report.stage(1).status == "complete"
    assert report.stage(2).status == "partly visible"
    assert report.stage(3).status == "not visible"
    assert report.stage(4).status == "partly visible"  # the client's ChangeCipherSpec travels in the clear
    assert report.stage(5).status == "not visible"
    assert report.handshake == "not visible"


def test_tls12_without_keylog_shows_handshake(tls12):
    report = analyze_frames(Capture(_frames(tls12)), "capture", None).connections[0]
    assert _names(report, 4) == ["Certificate", "ClientKeyExchange"]
    assert report.stage(5).messages[-1].decrypted is False
    assert report.handshake == "complete"


def test_wrong_keylog_names_client_random(tls13, server, client, root):
    other = _record(server, client, root, root, "1.3")
    dissection = _dissect(tls13, keylog=other.keylog)
    assert "has no secrets for this connection's client random" in dissection.decryption


def test_keylog_with_wrong_secrets_could_not_decrypt(tls13):
    rng = random.Random(1)
    forged = "\n".join(
        " ".join(parts[:2] + [bytes(rng.getrandbits(8) for _ in range(48)).hex()])
        for parts in (line.split() for line in tls13.keylog.splitlines())
    )
    dissection = _dissect(tls13, keylog=forged)
    assert dissection.decryption.startswith("could not decrypt")
    assert "do not decrypt" in dissection.decryption


def test_keylog_garbage_raises_input_error():
    from mtlslab.errors import InputError

    with pytest.raises(InputError, match="not an NSS key log"):
        KeyLog.parse("hello world\nthis is not a key log\n", source="notes.txt")


# --- TCP: split records, retransmissions, reordering, gaps, several connections ----------


def test_records_split_across_segments(tls13):
    dissection = _dissect(tls13, mss=50)
    assert [m.name for m in dissection.messages] == [m.name for m in _dissect(tls13).messages]
    assert dissection.problems == []


def test_retransmitted_and_reordered_segments(tls13):
    frames = _frames(tls13, mss=200)
    data = [index for index, frame in enumerate(frames) if decode_segment(frame).payload]
    first, second = data[2], data[3]  # the ClientHello takes two segments; these two start the server's flight
    assert second == first + 1
    shuffled = frames[:first] + [frames[second], frames[first]] + frames[second + 1 :] + [frames[first], frames[data[-1]]]
    (connection,), _ = reassemble(shuffled)
    dissection = dissect_connection(connection, KeyLog.parse(tls13.keylog))
    assert [m.name for m in dissection.messages] == [m.name for m in _dissect(tls13).messages]
    assert connection.server_stream.retransmissions + connection.client_stream.retransmissions == 2


def test_missing_segment_reported(tls13):
    frames = _frames(tls13, mss=200)
    (connection,), _ = reassemble(frames[:7] + frames[8:])
    dissection = dissect_connection(connection, KeyLog.parse(tls13.keylog))
    assert any("bytes are missing" in problem for problem in dissection.problems)
    assert dissection.messages[0].name == "ClientHello"


def test_several_connections_in_one_capture(tls12, tls13):
    frames = []
    keylog = ""
    for index, transcript in enumerate((tls12, tls13)):
        transcript = dataclasses.replace(transcript, client_address=("127.0.0.1", 40000 + index))
        frames.extend(transcript.pcap_frames())
        keylog += transcript.keylog
    frames.sort(key=lambda frame: frame[0])
    numbered = [Frame(n, t, 1, d) for n, (t, d) in enumerate(frames, start=1)]
    report = analyze_frames(Capture(numbered), "capture", KeyLog.parse(keylog))
    assert sorted(c.dissection.version_name for c in report.connections) == ["TLS 1.2", "TLS 1.3"]
    assert [c.handshake for c in report.connections] == ["complete", "complete"]


def test_port_reuse_splits_connections(tls13):
    first = _frames(tls13)
    second = build_connection(
        tls13.flights, tls13.client_address, tls13.server_address, start_time=tls13.flights[-1].time + 10
    )
    numbered = first + [Frame(len(first) + n, t, 1, d) for n, (t, d) in enumerate(second, start=1)]
    connections, _ = reassemble(numbered)
    assert len(connections) == 2


# --- odd input never raises ---------------------------------------------------------------


def _connection_frames(client_bytes, server_bytes):
    flights = [Flight("client", 1.0, client_bytes), Flight("server", 2.0, server_bytes)]
    frames = build_connection(flights, ("127.0.0.1", 40000), ("127.0.0.1", 443))
    return [Frame(n, t, 1, d) for n, (t, d) in enumerate(frames, start=1)]


def _connection_with(client_bytes, server_bytes):
    (connection,), _ = reassemble(_connection_frames(client_bytes, server_bytes))
    return connection


@pytest.mark.parametrize("seed", range(20))
def test_random_damage_never_raises(tls13, seed):
    rng = random.Random(seed)
    client_bytes = tls13.bytes_sent("client")
    server_bytes = bytearray(tls13.bytes_sent("server"))
    for _ in range(10):
        server_bytes[rng.randrange(len(server_bytes))] = rng.getrandbits(8)
    frames = _connection_frames(client_bytes[: rng.randrange(6, len(client_bytes))], bytes(server_bytes))
    report = analyze_frames(Capture(frames), "capture", KeyLog.parse(tls13.keylog))
    assert len(report.connections) == 1
    assert all(isinstance(message.name, str) for message in report.connections[0].dissection.messages)


def test_capture_ending_early_is_incomplete(tls13):
    report = analyze_frames(Capture(_frames(tls13)[:5]), "capture", KeyLog.parse(tls13.keylog)).connections[0]
    assert report.handshake == "incomplete"
    assert report.stopped_at == 2
    assert "no alert was seen" in report.outcome


def test_truncated_handshake_message_reported(tls12):
    server_bytes = tls12.bytes_sent("server")
    connection = _connection_with(tls12.bytes_sent("client")[:60], server_bytes[:200])
    dissection = dissect_connection(connection, None)
    assert any("ends inside a record" in problem for problem in dissection.problems)


def test_malformed_certificate_message_recorded(tls12):
    client_bytes = tls12.bytes_sent("client")
    server_bytes = bytearray(tls12.bytes_sent("server"))
    # OpenSSL sends each TLS 1.2 handshake message in its own record: ServerHello, then Certificate.
    certificate_record = 5 + int.from_bytes(server_bytes[3:5], "big")
    list_length = certificate_record + 5 + 4
    server_bytes[list_length : list_length + 3] = b"\xff\xff\xff"  # certificate_list claims more than the message has
    dissection = dissect_connection(_connection_with(client_bytes, bytes(server_bytes)), None)
    certificate = dissection.find("Certificate", "server")
    assert "truncated" in certificate.details["problem"]


# --- tshark agrees on every handshake message -------------------------------------------


def _tshark_types(path, keylog_path, server_port):
    output = subprocess.run(
        ["tshark", "-r", str(path), "-o", f"tls.keylog_file:{keylog_path}", "-d", f"tcp.port=={server_port},tls",
         "-T", "fields", "-e", "tcp.srcport", "-e", "tls.handshake.type", "-e", "tls.alert_message.desc"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    types = {"client": [], "server": []}
    alerts = {"client": [], "server": []}
    for line in output.splitlines():
        port, handshake_types, descriptions = (line.split("\t") + ["", ""])[:3]
        sender = "server" if int(port) == server_port else "client"
        types[sender] += [int(value) for value in handshake_types.split(",") if value]
        alerts[sender] += [int(value) for value in descriptions.split(",") if value]
    return types, alerts


@requires_tshark
@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("client_has_certificate", [True, False])
def test_tshark_agrees_on_handshake_messages(server, client, root, tmp_path, version, client_has_certificate):
    transcript = _record(server, client if client_has_certificate else None, root, root, version)
    pcap = write_capture(tmp_path / "handshake.pcap", transcript.pcap_frames(mss=300))
    keylog = tmp_path / "keylog.txt"
    keylog.write_text(transcript.keylog)
    dissection = _dissect(transcript, mss=300)

    types, alerts = _tshark_types(pcap, keylog, transcript.server_address[1])
    for sender in ("client", "server"):
        ours = [m.handshake_type for m in dissection.handshake_messages(sender)]
        assert ours == types[sender], sender
        our_alerts = [m.parsed.code for m in dissection.messages if m.name == "Alert" and m.sender == sender]
        assert our_alerts == alerts[sender], sender


@requires_tshark
def test_tshark_disagrees_without_keylog(tls13, tmp_path):
    """Negative twin: without the key log tshark finds fewer handshake messages than the decrypted dissection."""
    pcap = write_capture(tmp_path / "handshake.pcap", tls13.pcap_frames())
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    types, _ = _tshark_types(pcap, empty, tls13.server_address[1])
    assert types["server"] != [m.handshake_type for m in _dissect(tls13).handshake_messages("server")]


# --- an unexpected error in one connection ------------------------------------------------


def test_unexpected_error_recorded_per_connection(tls12, tls13, monkeypatch):
    from mtlslab import report as report_module

    real = report_module.dissect_connection

    def fail_on_tls12(connection, keylog):
        dissection = real(connection, keylog)
        if dissection.version_name == "TLS 1.2":
            raise RuntimeError("simulated bug")
        return dissection

    monkeypatch.setattr(report_module, "dissect_connection", fail_on_tls12)
    frames = sorted(
        dataclasses.replace(tls12, client_address=("127.0.0.1", 40001)).pcap_frames() + tls13.pcap_frames(),
        key=lambda frame: frame[0],
    )
    numbered = [Frame(n, t, 1, d) for n, (t, d) in enumerate(frames, start=1)]
    report = analyze_frames(Capture(numbered), "capture", KeyLog.parse(tls12.keylog + tls13.keylog))
    assert [c.dissection.version_name for c in report.connections] == ["TLS 1.3"]
    assert "could not be dissected (RuntimeError: simulated bug)" in report.problems[0]
    with pytest.raises(RuntimeError, match="simulated bug"):
        analyze_frames(Capture(numbered), "capture", None, strict=True)


# --- link types other than Ethernet -------------------------------------------------------


def _relink(frame_data, linktype):
    ip = frame_data[14:]
    if linktype == 0:  # BSD loopback: address family 2 (IPv4) in host byte order
        return (2).to_bytes(4, "little") + ip
    if linktype == 101:  # raw IP
        return ip
    if linktype == 113:  # Linux cooked capture v1: protocol in the last two of 16 bytes
        return bytes(14) + b"\x08\x00" + ip
    if linktype == 276:  # Linux cooked capture v2: protocol in the first two of 20 bytes
        return b"\x08\x00" + bytes(18) + ip
    raise AssertionError(linktype)


@pytest.mark.parametrize("linktype", [0, 101, 113, 276])
def test_link_types_dissect_alike(tls13, linktype):
    frames = [Frame(f.number, f.time, linktype, _relink(f.data, linktype)) for f in _frames(tls13)]
    report = analyze_frames(Capture(frames), "capture", KeyLog.parse(tls13.keylog)).connections[0]
    assert report.handshake == "complete"


def test_unsupported_link_type_noted(tls13):
    frames = [Frame(f.number, f.time, 147, f.data) for f in _frames(tls13)]
    _, notes = reassemble(frames)
    assert notes == ["link type 147 is not supported"]
