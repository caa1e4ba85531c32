"""Bytes per handshake message, and the print formats that the nbval sanitizers rely on."""

from __future__ import annotations

import re
from configparser import ConfigParser
from pathlib import Path

import pytest

from mtlslab.bench import units
from mtlslab.bench.memory import memory_handshake
from mtlslab.bench.suite import Scenario, contexts_for
from mtlslab.bench.wire import WireMessage, bytes_by_sender, handshake_messages, pair_messages
from mtlslab.pki import client_context, server_context

SANITIZE_FILE = Path(__file__).resolve().parent / "nbval-sanitize.cfg"
MTLS_ONLY = {("server", "CertificateRequest"), ("client", "Certificate"), ("client", "CertificateVerify")}


def names(messages):
    return [(message.sender, message.name) for message in messages]


@pytest.fixture(scope="module", params=["1.3", "1.2"])
def version(request):
    return request.param


@pytest.fixture(scope="module")
def tls_messages(version):
    return handshake_messages(*contexts_for(Scenario(mutual=False, tls_version=version)))


@pytest.fixture(scope="module")
def mtls_messages(version):
    return handshake_messages(*contexts_for(Scenario(mutual=True, tls_version=version)))


def test_mtls_adds_three_messages(tls_messages, mtls_messages):
    assert set(names(mtls_messages)) - set(names(tls_messages)) == MTLS_ONLY


def test_tls_sends_no_client_certificate(tls_messages):
    assert not MTLS_ONLY & set(names(tls_messages))


def test_messages_leave_out_data_and_alerts(mtls_messages):
    assert not {"application_data", "Alert"} & {message.name for message in mtls_messages}


def test_message_bytes_add_up_to_memory_handshake(version):
    server, client = contexts_for(Scenario(tls_version=version))
    sample, _ = memory_handshake(client, server)
    total = sum(message.wire_bytes for message in handshake_messages(server, client))
    # Both handshakes send the same certificates but make new ECDSA signatures, whose DER length varies by a byte or two.
    assert abs(total - sample.handshake_bytes) <= 8


def test_client_certificate_message_holds_chain():
    server, client = contexts_for(Scenario())
    certificate = next(m for m in handshake_messages(server, client) if m.sender == "client" and m.name == "Certificate")
    # Leaf and intermediate are about 440 bytes of DER each.
    assert 800 < certificate.wire_bytes < 1100


def test_unrequested_client_certificate_stays_home(root, server, client):
    messages = handshake_messages(server_context(server, require_client_certificate=False), client_context(root, client))
    assert not MTLS_ONLY & set(names(messages))


def test_failed_handshake_raises(server, client, other_root):
    with pytest.raises(RuntimeError, match="the recorded handshake failed"):
        handshake_messages(server_context(server, other_root), client_context(other_root, client))


def test_bytes_by_sender_adds_each_side():
    messages = [WireMessage("client", "ClientHello", 200), WireMessage("server", "ServerHello", 100), WireMessage("client", "Finished", 50)]
    assert bytes_by_sender(messages) == {"client": 250, "server": 100}


def test_pair_messages_matches_repeats_in_order():
    first = [WireMessage("server", "NewSessionTicket", 10), WireMessage("server", "NewSessionTicket", 11)]
    second = [WireMessage("server", "NewSessionTicket", 20), WireMessage("server", "NewSessionTicket", 21)]
    assert [(pair.first, pair.second) for pair in pair_messages(first, second)] == [(10, 20), (11, 21)]


def test_pair_messages_marks_missing_sides():
    first = [WireMessage("client", "ClientHello", 1), WireMessage("client", "EndOfEarlyData", 2)]
    second = [WireMessage("client", "ClientHello", 3), WireMessage("client", "Certificate", 4)]
    pairs = [(pair.name, pair.first, pair.second) for pair in pair_messages(first, second)]
    assert pairs == [("ClientHello", 1, 3), ("Certificate", None, 4), ("EndOfEarlyData", 2, None)]


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        (units.duration(0.00042), "420 µs"),
        (units.duration(0.0018), "1.80 ms"),
        (units.byte_count(4107.0), "~4107 bytes"),
        (units.rate(556.4), "556 handshakes/s"),
        (units.rate(12345.0), "12,345 handshakes/s"),
        (units.cores(1.8), "1.80 cores"),
        (units.throughput(1957.5), "1,958 MiB/s"),
        (units.ratio(4.27), "4.3×"),
        (units.percent(0.234), "23 %"),
    ],
)
def test_unit_formats(formatted, expected):
    assert formatted == expected


def sanitize(text: str) -> str:
    """Apply the sanitizers in file order, as nbval does."""
    for regex, replace in re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE):
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    "measure",
    [units.duration, units.byte_count, units.rate, units.cores, units.throughput, units.ratio, units.percent],
)
def test_sanitizers_hide_measured_values(measure):
    small, large = measure(0.012), measure(123.456)
    assert sanitize(f"x {small:>14} y") == sanitize(f"x {large:>14} y")


def test_sanitizers_keep_unmeasured_byte_counts():
    assert sanitize("public key:  91 bytes") == "public key:  91 bytes"


def test_sanitize_file_parses():
    parser = ConfigParser(interpolation=None)
    parser.read(SANITIZE_FILE, encoding="utf-8")  # raises DuplicateSectionError for a repeated section
    assert "measured-bytes" in parser.sections()
