"""The in-memory and live recorders, and the pcap they export."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mtlslab import live
from mtlslab.packets import SYN, decode_segment
from mtlslab.pcap import Frame, parse_capture, write_capture
from mtlslab.pki import client_context, server_context
from mtlslab.record import MEMORY_SERVER_PORT, record_handshake
from mtlslab.report import analyze_transcript
from mtlslab.tcpstream import DEFAULT_MSS, reassemble
from mtlslab.tls.keylog import KeyLog

requires_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def _record(server, client, root, version, client_credential="default"):
    credential = client if client_credential == "default" else client_credential
    return record_handshake(
        server_context(server, root, tls_version=version),
        client_context(root, credential, tls_version=version),
    )


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_recorder_completes_mtls(server, client, root, version):
    transcript = _record(server, client, root, version)
    assert transcript.ok, str(transcript.client) + "\n" + str(transcript.server)
    assert transcript.client.tls_version == f"TLSv{version}"
    assert transcript.server.received == b"ping"
    assert transcript.client.received == b"pong: ping"


def test_recorder_first_flight_is_client_hello(server, client, root):
    transcript = _record(server, client, root, "1.3")
    first = transcript.flights[0]
    assert first.sender == "client"
    assert first.data[0] == 22  # handshake record
    assert first.data[5] == 1  # ClientHello


def test_recorder_flight_times_increase(server, client, root):
    transcript = _record(server, client, root, "1.3")
    times = [flight.time for flight in transcript.flights]
    assert times == sorted(times)


def test_recorder_keylog_tls13_secrets(server, client, root):
    keylog = KeyLog.parse(_record(server, client, root, "1.3").keylog)
    (secrets,) = keylog.secrets.values()
    for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"):
        assert label in secrets


def test_recorder_keylog_tls12_master_secret(server, client, root):
    keylog = KeyLog.parse(_record(server, client, root, "1.2").keylog)
    (secrets,) = keylog.secrets.values()
    assert len(secrets["CLIENT_RANDOM"]) == 48


def test_recorder_restores_keylog_filename(server, client, root, tmp_path):
    context = client_context(root, client, tls_version="1.3")
    context.keylog_filename = str(tmp_path / "mine.txt")
    record_handshake(server_context(server, root, tls_version="1.3"), context)
    assert context.keylog_filename == str(tmp_path / "mine.txt")


def test_recorder_tls13_ends_with_close_notify(server, client, root):
    transcript = _record(server, client, root, "1.3")
    assert transcript.flights[-2].sender == "client"
    assert transcript.flights[-1].sender == "server"
    assert transcript.closer == "client"


def test_recorder_missing_client_cert_tls13(server, client, root):
    transcript = _record(server, client, root, "1.3", client_credential=None)
    assert transcript.client.handshake_completed
    assert transcript.client.error_phase == "exchange"
    assert transcript.client.alert_received.code == 116
    assert transcript.server.error_phase == "handshake"
    assert transcript.closer == "server"


def test_recorder_missing_client_cert_tls12(server, client, root):
    transcript = _record(server, client, root, "1.2", client_credential=None)
    assert not transcript.client.handshake_completed
    assert transcript.client.alert_received.code == 40
    # The last flight is the server's plaintext alert record: fatal handshake_failure.
    assert transcript.flights[-1].data == bytes([21, 3, 3, 0, 2, 2, 40])


def test_recorder_unknown_ca_client_alert(server, client, root, other_root):
    transcript = record_handshake(
        server_context(server, root, tls_version="1.2"), client_context(other_root, client, tls_version="1.2")
    )
    assert transcript.client.error_type == "SSLCertVerificationError"
    assert transcript.flights[-1].sender == "client"
    assert transcript.flights[-1].data == bytes([21, 3, 3, 0, 2, 2, 48])


def test_recorder_anchors_from_contexts(server, client, root, other_root):
    transcript = record_handshake(
        server_context(server, other_root, tls_version="1.3"), client_context(root, client, tls_version="1.3")
    )
    assert transcript.client_anchors == [root.certificate]
    assert transcript.server_anchors == [other_root.certificate]


# --- pcap export ------------------------------------------------------------------------


def _frames(transcript, mss=DEFAULT_MSS):
    return [Frame(n, t, 1, d) for n, (t, d) in enumerate(transcript.pcap_frames(mss), start=1)]


def test_pcap_opens_with_three_way_handshake(server, client, root):
    segments = [decode_segment(frame) for frame in _frames(_record(server, client, root, "1.3"))[:3]]
    assert [s.flags for s in segments] == [0x02, 0x12, 0x10]
    assert segments[1].acknowledgment == segments[0].sequence + 1
    assert segments[2].acknowledgment == segments[1].sequence + 1


def test_pcap_ends_with_fin_teardown(server, client, root):
    segments = [decode_segment(frame) for frame in _frames(_record(server, client, root, "1.3"))[-3:]]
    assert [s.flags for s in segments] == [0x11, 0x11, 0x10]


def test_pcap_segments_fit_mss(server, client, root):
    segments = [decode_segment(frame) for frame in _frames(_record(server, client, root, "1.3"), mss=300)]
    assert max(len(s.payload) for s in segments) == 300


def test_pcap_streams_match_flights(server, client, root):
    transcript = _record(server, client, root, "1.3")
    (connection,), _ = reassemble(_frames(transcript, mss=100))
    assert connection.client_stream.data == transcript.bytes_sent("client")
    assert connection.server_stream.data == transcript.bytes_sent("server")


def test_pcap_addresses_loopback(server, client, root):
    transcript = _record(server, client, root, "1.3")
    (connection,), _ = reassemble(_frames(transcript))
    assert connection.client == transcript.client_address
    assert connection.server == ("127.0.0.1", MEMORY_SERVER_PORT)
    assert connection.syn_seen


def test_pcap_roundtrip_file(server, client, root, tmp_path):
    transcript = _record(server, client, root, "1.2")
    path = write_capture(tmp_path / "handshake.pcap", transcript.pcap_frames())
    capture = parse_capture(path.read_bytes())
    assert [frame.data for frame in capture.frames] == [data for _, data in transcript.pcap_frames()]
    assert capture.problems == []


@requires_tshark
def test_pcap_tshark_sees_no_tcp_problems(server, client, root, tmp_path):
    path = write_capture(tmp_path / "handshake.pcap", _record(server, client, root, "1.3").pcap_frames(mss=200))
    output = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "tcp.analysis.flags && !tcp.analysis.window_update", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == ""


@requires_tshark
def test_pcap_tshark_checksums_valid(server, client, root, tmp_path):
    path = write_capture(tmp_path / "handshake.pcap", _record(server, client, root, "1.3").pcap_frames())
    output = subprocess.run(
        ["tshark", "-r", str(path), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
         "-Y", "tcp.checksum.status != 1 || ip.checksum.status != 1", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == ""


# --- live recorder ----------------------------------------------------------------------

requires_capture = pytest.mark.skipif(
    live.live_capture_unavailable() is not None, reason=f"live capture is not possible: {live.live_capture_unavailable()}"
)


@requires_capture
def test_live_records_real_packets(server, client, root):
    transcript = live.record(
        server_context(server, root, tls_version="1.3"), client_context(root, client, tls_version="1.3"), live=True
    )
    assert transcript.recorder == "live"
    assert transcript.ok
    assert decode_segment(Frame(1, 0.0, 1, transcript.frames[0][1])).flags == SYN


@requires_capture
def test_live_transcript_dissects_like_memory(server, client, root):
    transcript = live.record(
        server_context(server, root, tls_version="1.2"), client_context(root, client, tls_version="1.2"), live=True
    )
    report = analyze_transcript(transcript).connections[0]
    assert report.handshake == "complete"
    assert report.dissection.server[1] != MEMORY_SERVER_PORT


@requires_capture
def test_live_capture_has_no_duplicate_frames(server, client, root):
    transcript = live.record(
        server_context(server, root, tls_version="1.3"), client_context(root, client, tls_version="1.3"), live=True
    )
    (connection,), _ = reassemble(Frame(n, t, 1, d) for n, (t, d) in enumerate(transcript.frames, start=1))
    assert connection.client_stream.retransmissions == 0
    assert connection.server_stream.retransmissions == 0


def test_live_falls_back_with_reason(server, client, root, monkeypatch):
    monkeypatch.setattr(live, "live_capture_unavailable", lambda: "sniffing needs root or CAP_NET_RAW")
    transcript = live.record(
        server_context(server, root, tls_version="1.3"), client_context(root, client, tls_version="1.3"), live=True
    )
    assert transcript.recorder == "memory"
    assert "sniffing needs root or CAP_NET_RAW" in transcript.notes[0]


def test_memory_recording_has_no_notes(server, client, root):
    transcript = live.record(
        server_context(server, root, tls_version="1.3"), client_context(root, client, tls_version="1.3")
    )
    assert transcript.notes == []


def test_live_unavailable_names_reason_without_privileges(monkeypatch):
    monkeypatch.setattr(live.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(live, "_has_cap_net_raw", lambda: False)
    assert "CAP_NET_RAW" in live.live_capture_unavailable()


def test_recorder_one_way_tls(server, root):
    transcript = record_handshake(
        server_context(server, require_client_certificate=False, tls_version="1.3"),
        client_context(root, None, tls_version="1.3"),
    )
    assert transcript.ok
    assert transcript.server.peer_certificate is None
