"""The stage stepper: its text per stage, scapy's agreement with the dissector, the widget and stable output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtlslab.dissect import Message
from mtlslab.errors import InputError
from mtlslab.pki import CertificateAuthority, client_context, server_context
from mtlslab.record import record_handshake
from mtlslab.report import analyze_transcript
from mtlslab.stepper import (
    TEXT_HEX_LIMIT,
    StageStepper,
    hexdump,
    message_fields,
    scapy_message,
    scapy_summary,
)

SANITIZERS = Path(__file__).resolve().parent / "nbval-sanitize.cfg"
SPIFFE_ID = "spiffe://test.local/ns/demo/sa/client"


def _record(server, client, root, version, **options):
    return record_handshake(
        server_context(server, root, tls_version=version), client_context(root, client, tls_version=version), **options
    )


@pytest.fixture(scope="module")
def tls13(server, client, root):
    return _record(server, client, root, "1.3")


@pytest.fixture(scope="module")
def tls12(server, client, root):
    return _record(server, client, root, "1.2")


@pytest.fixture(scope="module")
def missing13(server, root):
    return _record(server, None, root, "1.3")


def _line(text: str, field: str) -> str:
    """Return the value column of the first line that starts with ``field``."""
    for line in text.splitlines():
        if line.strip().startswith(field + " "):
            return line.strip()[len(field) :].strip()
    raise AssertionError(f"no line for {field!r} in:\n{text}")


# --- hex dumps ----------------------------------------------------------------------------------


def test_hexdump_format():
    assert hexdump(b"\x16\x03\x01ABC") == "0000  16 03 01 41 42 43" + " " * 33 + "|...ABC|"


def test_hexdump_two_halves():
    line = hexdump(bytes(range(16)))
    assert line.startswith("0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |")


def test_hexdump_offsets():
    lines = hexdump(bytes(40)).splitlines()
    assert [line[:4] for line in lines] == ["0000", "0010", "0020"]


def test_hexdump_limit():
    assert len(hexdump(bytes(200), limit=64).splitlines()) == 4


def test_hexdump_empty():
    assert hexdump(b"") == ""


# --- text of each stage ---------------------------------------------------------------------------


def test_tls13_stage_1_client_hello_fields(tls13):
    text = StageStepper(tls13).text(1)
    assert text.startswith("Stage 1 of 6: ClientHello (complete)")
    assert "record 1  client -> server  ClientHello" in text
    assert _line(text, "supported_versions") == "TLS 1.3"
    assert _line(text, "key_share group") == "x25519"
    assert _line(text, "server_name (SNI)") == "localhost"
    assert _line(text, "cipher_suites").startswith("TLS_AES_256_GCM_SHA384")
    assert _line(text, "signature_algorithms").startswith("ecdsa_secp256r1_sha256")


def test_tls13_stage_2_certificate_request(tls13):
    text = StageStepper(tls13).text(2)
    assert "record 5  server -> client  CertificateRequest" in text
    assert _line(text, "certificate_request_context") == "(empty)"
    assert _line(text, "certificate_authorities") == "(absent: the server names no CA)"


def test_tls13_stage_2_encrypted_record_layer(tls13):
    text = " ".join(StageStepper(tls13).text(2).split())
    assert "application_data (23) outside, handshake (22) inside, decrypted with the key log" in text


def test_tls13_stage_3_certificate_verify_check(tls13):
    text = StageStepper(tls13).text(3)
    assert _line(text, "algorithm") == "ecdsa_secp256r1_sha256 (0x0403)"
    assert _line(text, "kit re-check").startswith("passed: ecdsa_secp256r1_sha256 signature over 64 spaces")


def test_tls13_stage_4_client_certificate_spiffe_id(tls13):
    text = StageStepper(tls13).text(4)
    assert _line(text, "[0] subjectAltName") == f"URI:{SPIFFE_ID}"
    assert _line(text, "[0] subject") == "CN=client"
    assert _line(text, "certificate_list") == "2 certificates, the client's own first"


def test_tls13_stage_5_finished_check(tls13):
    text = StageStepper(tls13).text(5)
    assert "record 12  client -> server  Finished" in text
    assert "check: client Finished: passed" in text


def test_tls12_stage_2_certificate_types(tls12):
    text = StageStepper(tls12).text(2)
    assert _line(text, "certificate_types") == "rsa_sign, dss_sign, ecdsa_sign"
    assert _line(text, "supported_signature_algorithms").startswith("ecdsa_secp256r1_sha256")


def test_tls12_certificate_in_clear(tls12):
    text = StageStepper(tls12).text(4)
    assert _line(text, "record layer") == "handshake (22), in clear"


def test_tls12_stage_3_server_key_exchange(tls12):
    text = StageStepper(tls12).text(3)
    assert _line(text, "named_curve") == "x25519"
    assert _line(text, "kit re-check").startswith("passed")


def test_tls12_change_cipher_spec_meaning(tls12):
    text = StageStepper(tls12).text(5)
    assert "protects every record after this one with the new keys" in text


def test_tls13_change_cipher_spec_meaning(tls13):
    assert "middlebox compatibility" in StageStepper(tls13).text(4)


def test_failed_stage_shows_alert(missing13):
    text = StageStepper(missing13).text(5)
    assert text.startswith("Stage 5 of 6: client verification by the server (failed)")
    assert _line(text, "description") == "certificate_required (116)"
    assert "record 13  server -> client  Alert" in text


def test_empty_client_certificate(missing13):
    text = StageStepper(missing13).text(4)
    assert _line(text, "certificate_list") == "(empty: the client has no certificate to present)"


def test_stage_without_messages(missing13):
    connection = analyze_transcript(missing13).connections[0]
    connection.stage(6).messages.clear()
    assert "(no message on the wire in this stage)" in StageStepper(connection).text(6)


def test_hex_dump_limited_in_text(tls13):
    text = StageStepper(tls13).text(4)
    assert f"first {TEXT_HEX_LIMIT} shown" in text
    assert "0040  " not in text


def test_hex_dump_starts_with_message_header(tls13):
    text = StageStepper(tls13).text(2)
    assert "0000  0d 00 00 " in text  # CertificateRequest, handshake type 13


# --- scapy agrees with the kit's dissector ------------------------------------------------------------


def _handshake_messages(transcript):
    dissection = analyze_transcript(transcript).connections[0].dissection
    return dissection, dissection.handshake_messages()


@pytest.mark.parametrize("fixture", ["tls12", "tls13", "missing13"])
def test_scapy_message_type_matches_dissector(fixture, request):
    dissection, messages = _handshake_messages(request.getfixturevalue(fixture))
    assert messages
    for message in messages:
        packet = scapy_message(message, dissection)
        assert packet.msgtype == message.handshake_type, message.name


@pytest.mark.parametrize("fixture", ["tls12", "tls13", "missing13"])
def test_scapy_class_names_rfc_message(fixture, request):
    dissection, messages = _handshake_messages(request.getfixturevalue(fixture))
    for message in messages:
        name = type(scapy_message(message, dissection)).__name__
        assert re.sub(r"^TLS(13)?", "", name) == message.name


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_scapy_parses_whole_message(fixture, request):
    dissection, messages = _handshake_messages(request.getfixturevalue(fixture))
    for message in messages:
        packet = scapy_message(message, dissection)
        assert not packet.haslayer("Raw"), message.name
        assert not packet.haslayer("Padding"), message.name


def test_scapy_tls13_finished_full_length(tls13):
    dissection, messages = _handshake_messages(tls13)
    finished = next(m for m in messages if m.name == "Finished")
    assert scapy_message(finished, dissection).vdata == finished.body


def test_scapy_certificate_request_signature_algorithms(tls13):
    dissection, messages = _handshake_messages(tls13)
    request = next(m for m in messages if m.name == "CertificateRequest")
    (extension,) = scapy_message(request, dissection).ext
    assert len(extension.sig_algs) == len(request.details["signature_algorithms"])


def test_scapy_summary_names_class(tls13):
    dissection, messages = _handshake_messages(tls13)
    assert scapy_summary(messages[0], dissection).startswith("TLS13ClientHello: msgtype=client_hello")


def test_scapy_summary_unknown_type(tls13):
    dissection, _ = _handshake_messages(tls13)
    odd = Message("handshake type 99", "client", 1, None, None, 22, handshake_type=99, raw=b"\x63\x00\x00\x00")
    assert scapy_summary(odd, dissection) == "scapy has no class for handshake type 99"


def test_scapy_summary_truncated_message(tls13):
    dissection, messages = _handshake_messages(tls13)
    hello = messages[0]
    cut = Message("ClientHello", "client", 1, None, None, 22, handshake_type=1, raw=hello.raw[:20])
    assert scapy_summary(cut, dissection) is not None


def test_scapy_summary_none_for_alert(missing13):
    connection = analyze_transcript(missing13).connections[0]
    alert = next(m for m in connection.dissection.messages if m.name == "Alert")
    assert scapy_summary(alert, connection.dissection) is None


def test_message_fields_undecrypted():
    from mtlslab.dissect import Dissection

    dissection = Dissection(("127.0.0.1", 1), ("127.0.0.1", 443))
    record = Message("encrypted record", "server", 4, None, None, 23, encrypted=True, decrypted=False,
                     details={"outer_content_type": "application_data"})
    assert message_fields(record, dissection) == [("content", "(not decrypted; outer content type application_data)")]


# --- stable text ------------------------------------------------------------------------------------------


def _sanitize(text: str) -> str:
    patterns = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZERS.read_text(), flags=re.MULTILINE)
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def _fresh_transcript(version: str, with_client: bool = True):
    root = CertificateAuthority.create_root("Stable Root CA")
    intermediate = root.create_intermediate("Stable Intermediate CA")
    server = intermediate.issue_server("localhost")
    client = intermediate.issue_client("client", spiffe_id=SPIFFE_ID) if with_client else None
    return _record(server, client, root, version)


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_text_stable_after_sanitizing(version):
    texts = []
    for _ in range(3):
        stepper = StageStepper(_fresh_transcript(version))
        texts.append("\n".join(_sanitize(stepper.text(stage)) for stage in range(1, 7)))
    assert texts[0] == texts[1]
    assert texts[1] == texts[2]


def test_failure_text_stable_after_sanitizing():
    first = StageStepper(_fresh_transcript("1.3", with_client=False))
    second = StageStepper(_fresh_transcript("1.3", with_client=False))
    for stage in range(1, 7):
        assert _sanitize(first.text(stage)) == _sanitize(second.text(stage)), f"stage {stage}"


def test_sanitizer_hides_hex_dump(tls13):
    sanitized = _sanitize(StageStepper(tls13).text(2))
    assert "hex dump: <HEX DUMP>" in sanitized
    assert "0000  " not in sanitized


def test_unsanitized_texts_differ():
    """The sanitizer test above can fail: without it, two recordings print different bytes."""
    first = StageStepper(_fresh_transcript("1.3")).text(1)
    second = StageStepper(_fresh_transcript("1.3")).text(1)
    assert first != second


# --- navigation, widget and display ---------------------------------------------------------------


def test_navigation_bounds(tls13):
    stepper = StageStepper(tls13)
    assert stepper.previous_stage().current == 1
    assert stepper.go(6).next_stage().current == 6
    assert stepper.go(3).next_stage().current == 4


@pytest.mark.parametrize("stage", [0, 7, "2"])
def test_go_rejects_invalid_stage(tls13, stage):
    with pytest.raises(InputError, match="stages 1 to 6"):
        StageStepper(tls13).go(stage)


def test_str_is_current_stage(tls13):
    stepper = StageStepper(tls13, stage=4)
    assert str(stepper) == stepper.text(4)


def test_view_renders_stage_text(tls13):
    stepper = StageStepper(tls13)
    assert str(stepper.view(5)) == stepper.text(5)


def test_mimebundle_without_kernel_is_text(tls13):
    stepper = StageStepper(tls13)
    assert stepper._repr_mimebundle_() == {"text/plain": stepper.text(1)}


def test_widget_buttons_move_stage(tls13):
    stepper = StageStepper(tls13)
    box = stepper.widget()
    previous, slider, following, _title = box.children[0].children
    following.click()
    following.click()
    assert stepper.current == 3
    assert slider.value == 3
    previous.click()
    assert stepper.current == 2


def test_widget_body_follows_slider(tls13):
    stepper = StageStepper(tls13)
    box = stepper.widget()
    slider = box.children[0].children[1]
    slider.value = 4
    body = box.children[1].value
    assert "Stage 4 of 6: client Certificate" in body
    assert SPIFFE_ID in body


def test_widget_disables_previous_at_first_stage(tls13):
    box = StageStepper(tls13).widget()
    previous, _slider, following, _title = box.children[0].children
    assert previous.disabled
    assert not following.disabled


def test_go_moves_widget(tls13):
    stepper = StageStepper(tls13)
    box = stepper.widget()
    stepper.go(6)
    assert box.children[0].children[1].value == 6


def test_html_full_hex_dump_and_scapy(tls13):
    html = StageStepper(tls13).html(4)
    assert "dissected with scapy" in html
    assert "0040  " in html  # beyond the plain text's 64 bytes
    assert "TLS 1.3 Handshake - Certificate" in html


def test_view_only_named_messages(tls13):
    text = StageStepper(tls13).text(2, only=["CertificateRequest"])
    assert "CertificateRequest" in text
    assert "ServerHello\n" not in text
    assert "(4 of the stage's 5 messages not shown)" in text


def test_view_only_accepts_one_name(tls13):
    stepper = StageStepper(tls13)
    assert stepper.text(2, only="CertificateRequest") == stepper.text(2, only=["CertificateRequest"])


def test_unparsed_hello_has_no_fields(tls13):
    dissection, messages = _handshake_messages(tls13)
    hello = Message("ClientHello", "client", 1, None, None, 22, handshake_type=1, raw=b"\x01\x00\x00\x01\x03",
                    details={"problem": "ClientHello is truncated"})
    assert message_fields(hello, dissection) == [("problem", "ClientHello is truncated")]


def test_malformed_certificate_request_reports_problem(tls13):
    dissection, _ = _handshake_messages(tls13)
    request = Message("CertificateRequest", "server", 5, None, None, 22, handshake_type=13, raw=b"\x0d\x00\x00\x00",
                      details={"signature_algorithms": [], "certificate_authorities": 0})
    assert message_fields(request, dissection)[0] == ("certificate_request_context", "(empty)")
