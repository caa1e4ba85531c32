"""The ``mtlslab capture`` and ``mtlslab stages`` commands, on the kit's captures and on openssl's."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from mtlslab import live
from mtlslab.cli import main
from mtlslab.pcap import read_capture, write_capture
from mtlslab.pki import client_context, server_context
from mtlslab.pki.demo import write_demo_pki
from mtlslab.record import record_handshake
from mtlslab.tcpstream import Flight, build_connection


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """Run ``mtlslab capture`` once per TLS version; return the output folders."""
    folders = {}
    for version in ("1.2", "1.3"):
        folder = tmp_path_factory.mktemp(f"capture-{version}")
        assert main(["capture", "--out", str(folder), "--tls", version]) == 0
        folders[version] = folder
    return folders


def _stages_json(capsys, *arguments):
    capsys.readouterr()
    assert main(["stages", *map(str, arguments), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _error(capsys, *arguments):
    capsys.readouterr()
    status = main(list(map(str, arguments)))
    return status, capsys.readouterr().err


# --- mtlslab capture ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_capture_writes_three_files(captured, version):
    names = sorted(path.name for path in captured[version].iterdir())
    assert names == ["handshake.pcap", "keylog.txt", "stages.json"]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_capture_stages_json_complete(captured, version):
    data = json.loads((captured[version] / "stages.json").read_text())
    (connection,) = data["connections"]
    assert connection["tls_version"] == f"TLS {version}"
    assert connection["handshake"] == "complete"
    assert [stage["status"] for stage in connection["stages"]] == ["complete"] * 6


def test_capture_stages_json_messages(captured):
    stage_one = json.loads((captured["1.3"] / "stages.json").read_text())["connections"][0]["stages"][0]
    (hello,) = stage_one["messages"]
    assert (hello["name"], hello["direction"], hello["record"], hello["frame"]) == ("ClientHello", "client -> server", 1, 4)
    assert hello["encrypted"] is False
    assert hello["details"]["server_name"] == "localhost"


def test_capture_stages_json_certificates(captured):
    stage_four = json.loads((captured["1.3"] / "stages.json").read_text())["connections"][0]["stages"][3]
    certificate = stage_four["messages"][1]
    assert certificate["name"] == "Certificate"
    assert certificate["details"]["certificates"] == ["CN=client", "CN=mtlslab Intermediate CA,O=mtlslab"]


def test_capture_keylog_owner_only(captured):
    assert (captured["1.3"] / "keylog.txt").stat().st_mode & 0o777 == 0o600


def test_capture_keylog_nss_format(captured):
    labels = {line.split()[0] for line in (captured["1.3"] / "keylog.txt").read_text().splitlines()}
    assert "SERVER_HANDSHAKE_TRAFFIC_SECRET" in labels


def test_capture_pcap_readable(captured):
    capture = read_capture(captured["1.2"] / "handshake.pcap")
    assert capture.problems == []
    assert len(capture.frames) > 10


def test_capture_prints_report_and_paths(tmp_path, capsys):
    assert main(["capture", "--out", str(tmp_path / "new"), "--tls", "1.3"]) == 0
    output = capsys.readouterr().out
    assert "Stage 5, client verification by the server: complete" in output
    assert f"wrote {tmp_path / 'new' / 'stages.json'}" in output


def test_capture_out_is_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    status, error = _error(capsys, "capture", "--out", target)
    assert status == 2
    assert "is a file" in error


def test_capture_live_or_reason(tmp_path, capsys):
    capsys.readouterr()
    assert main(["capture", "--out", str(tmp_path), "--live"]) == 0
    error = capsys.readouterr().err
    data = json.loads((tmp_path / "stages.json").read_text())
    if live.live_capture_unavailable() is None:
        assert error == ""
        assert data["connections"][0]["server"] != "127.0.0.1:443"
    else:
        assert "live capture is not possible" in error


def test_capture_live_fallback_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(live, "live_capture_unavailable", lambda: "sniffing needs root or CAP_NET_RAW")
    capsys.readouterr()
    assert main(["capture", "--out", str(tmp_path), "--live"]) == 0
    assert "recorded in memory" in capsys.readouterr().err


def test_capture_help_names_options(capsys):
    with pytest.raises(SystemExit):
        main(["capture", "--help"])
    text = capsys.readouterr().out
    assert "directory to write the three files to" in text
    assert "TLS version that client and server use" in text
    assert "CAP_NET_RAW" in text


# --- mtlslab stages -----------------------------------------------------------------------


def test_stages_with_keylog_text(captured, capsys):
    folder = captured["1.3"]
    assert main(["stages", str(folder / "handshake.pcap"), "--keylog", str(folder / "keylog.txt")]) == 0
    output = capsys.readouterr().out
    assert "decryption: decrypted with the key log" in output
    assert "client -> server  CertificateVerify" in output


def test_stages_without_keylog_says_why(captured, capsys):
    data = _stages_json(capsys, captured["1.3"] / "handshake.pcap")
    connection = data["connections"][0]
    assert connection["decryption"].startswith("could not decrypt: no key log given")
    assert connection["stages"][2]["status"] == "not visible"


@pytest.fixture(scope="module")
def expired_server_capture(intermediate, root, tmp_path_factory):
    """Record, in memory, a TLS 1.3 client rejecting an expired server certificate; return its pcap and key log."""
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)
    expired = intermediate.issue_server("localhost", valid_from=past, lifetime=datetime.timedelta(days=1))
    client = intermediate.issue_client("client")
    transcript = record_handshake(
        server_context(expired, root, tls_version="1.3"), client_context(root, client, tls_version="1.3")
    )
    folder = tmp_path_factory.mktemp("expired-server")
    (folder / "keylog.txt").write_text(transcript.keylog)
    return write_capture(folder / "handshake.pcap", transcript.pcap_frames()), folder / "keylog.txt"


def test_stages_client_rejection_with_keylog_stage_3(expired_server_capture, capsys):
    pcap, keylog = expired_server_capture
    connection = _stages_json(capsys, pcap, "--keylog", keylog)["connections"][0]
    assert connection["stopped_at_stage"] == 3
    assert connection["stages"][2]["alert"]["code"] == 45


def test_stages_client_rejection_without_keylog_stage_3(expired_server_capture, capsys):
    pcap, _ = expired_server_capture
    connection = _stages_json(capsys, pcap)["connections"][0]
    assert connection["stopped_at_stage"] == 3
    assert connection["stages"][2]["status"] == "failed"
    assert connection["stages"][2]["alert"]["code"] == 45
    assert connection["stages"][1]["status"] == "partly visible"
    assert any("inferred without the key log" in note for note in connection["stages"][2]["notes"])


def test_stages_client_rejection_without_keylog_text(expired_server_capture, capsys):
    pcap, _ = expired_server_capture
    capsys.readouterr()
    assert main(["stages", str(pcap)]) == 0
    output = capsys.readouterr().out
    assert "failed at stage 3" in output
    assert "failed at stage 2" not in output


def test_stages_success_without_keylog_claims_no_failure(captured, capsys):
    connection = _stages_json(capsys, captured["1.3"] / "handshake.pcap")["connections"][0]
    assert connection["stopped_at_stage"] is None
    assert "failed" not in [stage["status"] for stage in connection["stages"]]
    assert connection["alerts"] == []


def test_stages_with_ca_passes_chains(captured, capsys, tmp_path):
    pki = write_demo_pki(tmp_path / "pki")
    data = _stages_json(capsys, captured["1.3"] / "handshake.pcap", "--keylog", captured["1.3"] / "keylog.txt", "--ca", pki["root-ca.pem"])
    chain = data["connections"][0]["stages"][2]["evidence"][0]
    assert chain["check"] == "server certificate chain"
    assert chain["result"] == "failed"  # a different root than the capture's: the negative twin of the capture's own check


def test_stages_wrong_keylog_could_not_decrypt(captured, capsys):
    data = _stages_json(capsys, captured["1.3"] / "handshake.pcap", "--keylog", captured["1.2"] / "keylog.txt")
    assert data["connections"][0]["decryption"].startswith("could not decrypt: the key log has no secrets")


def test_stages_help_names_options(capsys):
    with pytest.raises(SystemExit):
        main(["stages", "--help"])
    text = capsys.readouterr().out
    assert "NSS key log" in text
    assert "CA certificates" in text


def test_stages_empty_file(tmp_path, capsys):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    status, error = _error(capsys, "stages", empty)
    assert status == 2
    assert error.count("\n") == 1
    assert "is empty" in error


def test_stages_header_only_pcap(tmp_path, capsys):
    path = write_capture(tmp_path / "header.pcap", [])
    status, error = _error(capsys, "stages", path)
    assert status == 2
    assert "contains no TLS connection (0 packets" in error


def test_stages_truncated_pcap(captured, tmp_path, capsys):
    data = (captured["1.2"] / "handshake.pcap").read_bytes()
    truncated = tmp_path / "truncated.pcap"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    capsys.readouterr()
    assert main(["stages", str(truncated)]) == 0
    output = capsys.readouterr().out
    assert "the file is truncated inside packet" in output


def test_stages_truncated_in_file_header(tmp_path, capsys):
    path = tmp_path / "cut.pcap"
    path.write_bytes(bytes.fromhex("d4c3b2a1020004"))
    status, error = _error(capsys, "stages", path)
    assert status == 2
    assert "truncated" in error


def test_stages_not_tls(tmp_path, capsys):
    flights = [Flight("client", 1.0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Flight("server", 1.1, b"HTTP/1.1 200 OK\r\n\r\n")]
    path = write_capture(tmp_path / "http.pcap", build_connection(flights, ("127.0.0.1", 40000), ("127.0.0.1", 80)))
    status, error = _error(capsys, "stages", path)
    assert status == 2
    assert "contains no TLS connection" in error
    assert "carries no TLS" in error


def test_stages_not_a_capture(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    status, error = _error(capsys, "stages", path)
    assert status == 2
    assert "is not a pcap or pcapng file" in error


def test_stages_missing_file(tmp_path, capsys):
    status, error = _error(capsys, "stages", tmp_path / "absent.pcap")
    assert status == 2
    assert "no such capture file" in error


def test_stages_garbage_keylog(captured, tmp_path, capsys):
    keylog = tmp_path / "keylog.txt"
    keylog.write_text("these are notes, not secrets\n")
    status, error = _error(capsys, "stages", captured["1.3"] / "handshake.pcap", "--keylog", keylog)
    assert status == 2
    assert "is not an NSS key log" in error


def test_stages_missing_keylog(captured, tmp_path, capsys):
    status, error = _error(capsys, "stages", captured["1.3"] / "handshake.pcap", "--keylog", tmp_path / "absent.txt")
    assert status == 2
    assert "no such key log file" in error


def test_stages_error_without_traceback(tmp_path):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "mtlslab", "stages", str(empty)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("mtlslab: error: ")


# --- a capture of openssl s_server and s_client -------------------------------------------

requires_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


def _start_sniffer(port, path):
    """Start capturing loopback traffic of ``port`` into ``path``; return a function that stops it."""
    if shutil.which("dumpcap") and os.geteuid() == 0:
        process = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = process.stderr.readline()
        assert "Capturing on" in line, line
        # dumpcap reports "Capturing on" a moment before its filter receives packets.
        time.sleep(1.0)

        def stop():
            time.sleep(0.3)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)

        return stop
    from scapy.sendrecv import AsyncSniffer
    from scapy.utils import wrpcap

    ready = __import__("threading").Event()
    sniffer = AsyncSniffer(iface="lo", lfilter=lambda p: p.haslayer("TCP") and port in (p["TCP"].sport, p["TCP"].dport), started_callback=ready.set)
    sniffer.start()
    ready.wait(5)

    def stop_scapy():
        time.sleep(0.3)
        wrpcap(str(path), sniffer.stop())

    return stop_scapy


@pytest.fixture(scope="module")
def openssl_capture(tmp_path_factory):
    """Capture three openssl connections on loopback: TLS 1.3 mTLS, TLS 1.2 mTLS, and TLS 1.3 without a client certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    if live.live_capture_unavailable() is not None:
        pytest.skip(f"capturing loopback traffic is not possible: {live.live_capture_unavailable()}")
    folder = tmp_path_factory.mktemp("openssl")
    pki = write_demo_pki(folder / "pki")
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "3", "-www",
         "-cert", pki["server.pem"], "-cert_chain", pki["intermediate-ca.pem"], "-key", pki["server-key.pem"],
         "-CAfile", pki["root-ca.pem"], "-Verify", "2"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = None
        for line in server.stdout:
            if line.startswith("ACCEPT"):
                port = int(line.rsplit(":", 1)[1])
                break
        assert port, "openssl s_server did not print its port"
        pcap = folder / "openssl.pcapng"
        keylog = folder / "keylog.txt"
        stop = _start_sniffer(port, pcap)
        base = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(pki["root-ca.pem"]),
                "-keylogfile", str(keylog), "-ign_eof"]
        with_certificate = [
            "-cert", str(pki["client.pem"]), "-cert_chain", str(pki["intermediate-ca.pem"]), "-key", str(pki["client-key.pem"])
        ]
        request = b"GET / HTTP/1.0\r\n\r\n"
        for extra in (with_certificate + ["-tls1_3"], with_certificate + ["-tls1_2"], ["-tls1_3"]):
            subprocess.run(base + extra, input=request, capture_output=True, timeout=15)
        stop()
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return {"pcap": pcap, "keylog": keylog, "root": pki["root-ca.pem"]}


@requires_openssl
def test_openssl_capture_three_connections(openssl_capture, capsys):
    data = _stages_json(capsys, openssl_capture["pcap"], "--keylog", openssl_capture["keylog"])
    assert [c["tls_version"] for c in data["connections"]] == ["TLS 1.3", "TLS 1.2", "TLS 1.3"]


@requires_openssl
def test_openssl_capture_mtls_complete(openssl_capture, capsys):
    data = _stages_json(capsys, openssl_capture["pcap"], "--keylog", openssl_capture["keylog"], "--ca", openssl_capture["root"])
    for connection in data["connections"][:2]:
        assert connection["handshake"] == "complete", connection["outcome"]
        evidence = [check for stage in connection["stages"] for check in stage["evidence"]]
        assert {check["result"] for check in evidence} == {"passed"}


@requires_openssl
def test_openssl_capture_stage_messages(openssl_capture, capsys):
    connection = _stages_json(capsys, openssl_capture["pcap"], "--keylog", openssl_capture["keylog"])["connections"][0]
    names = [[m["name"] for m in stage["messages"]] for stage in connection["stages"]]
    assert names[2] == ["CertificateVerify", "Finished"]
    assert names[3] == ["ChangeCipherSpec", "Certificate"]
    assert names[4] == ["CertificateVerify", "Finished"]


@requires_openssl
def test_openssl_capture_certificate_required(openssl_capture, capsys):
    connection = _stages_json(capsys, openssl_capture["pcap"], "--keylog", openssl_capture["keylog"])["connections"][2]
    assert connection["stopped_at_stage"] == 5
    assert connection["stages"][4]["alert"]["name"] == "certificate_required"
    assert connection["stages"][4]["alert"]["direction"] == "server -> client"


@requires_openssl
def test_openssl_capture_without_keylog(openssl_capture, capsys):
    data = _stages_json(capsys, openssl_capture["pcap"])
    tls12 = data["connections"][1]
    tls13 = data["connections"][0]
    assert tls12["stages"][3]["status"] == "complete"  # TLS 1.2 sends certificates in the clear
    assert tls13["stages"][3]["status"] == "partly visible"
    assert "no key log given" in tls13["decryption"]
