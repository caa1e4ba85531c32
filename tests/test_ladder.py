"""The ladder diagram: its arrows, labels, colours, markers and stop line, read from the figure's artists."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import FancyArrowPatch

from mtlslab.errors import InputError
from mtlslab.ladder import ALERT_COLOUR, STAGE_COLOURS, draw_ladder, ladder_rows, select_connection
from mtlslab.pki import client_context, server_context
from mtlslab.record import record_handshake
from mtlslab.report import analyze_transcript

TLS13_LABELS = [
    "ClientHello",
    "ServerHello",
    "ChangeCipherSpec",
    "EncryptedExtensions",
    "CertificateRequest",
    "Certificate (2 certificates)",
    "CertificateVerify",
    "Finished",
    "ChangeCipherSpec",
    "Certificate (2 certificates)",
    "CertificateVerify",
    "Finished",
]
TLS12_LABELS = [
    "ClientHello",
    "ServerHello",
    "Certificate (2 certificates)",
    "ServerKeyExchange",
    "CertificateRequest",
    "ServerHelloDone",
    "Certificate (2 certificates)",
    "ClientKeyExchange",
    "CertificateVerify",
    "ChangeCipherSpec",
    "Finished",
]


def _record(server, client, root, version):
    return record_handshake(
        server_context(server, root, tls_version=version), client_context(root, client, tls_version=version)
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


@pytest.fixture(scope="module")
def missing12(server, root):
    return _record(server, None, root, "1.2")


def _axes(figure):
    (axes,) = figure.axes
    return axes


def _texts(figure, prefix):
    return [text for text in _axes(figure).texts if (text.get_gid() or "").startswith(prefix)]


def _labels(figure):
    return [text.get_text() for text in _texts(figure, "label-")]


def _arrows(figure):
    return [patch for patch in _axes(figure).patches if isinstance(patch, FancyArrowPatch)]


def _row_of(text) -> int:
    return int(text.get_gid().split("-")[1])


# --- arrows and labels ----------------------------------------------------------------------


def test_tls13_labels_in_wire_order(tls13):
    labels = _labels(draw_ladder(tls13))
    assert labels[: len(TLS13_LABELS)] == TLS13_LABELS


def test_tls12_labels_in_wire_order(tls12):
    labels = _labels(draw_ladder(tls12))
    assert labels[: len(TLS12_LABELS)] == TLS12_LABELS


def test_tls13_secure_channel_labels(tls13):
    labels = _labels(draw_ladder(tls13))
    assert labels[len(TLS13_LABELS) :] == [
        "application_data",
        "NewSessionTicket",
        "NewSessionTicket",
        "application_data",
        "Alert: close_notify (0), warning",
        "Alert: close_notify (0), warning",
    ]


def test_one_arrow_per_message(tls13):
    figure = draw_ladder(tls13)
    messages = analyze_transcript(tls13).connections[0].dissection.messages
    assert len(_arrows(figure)) == len(messages)


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_arrow_directions_follow_senders(fixture, request):
    transcript = request.getfixturevalue(fixture)
    rows = ladder_rows(analyze_transcript(transcript).connections[0])
    gids = [arrow.get_gid() for arrow in _arrows(draw_ladder(transcript))]
    assert gids == [f"arrow-{index}-{row.sender}-to-{row.receiver}" for index, row in enumerate(rows)]


def test_client_hello_goes_client_to_server(tls13):
    assert _arrows(draw_ladder(tls13))[0].get_gid() == "arrow-0-client-to-server"


def test_server_hello_goes_server_to_client(tls13):
    assert _arrows(draw_ladder(tls13))[1].get_gid() == "arrow-1-server-to-client"


# --- colours per stage ---------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["tls12", "tls13", "missing13", "missing12"])
def test_arrow_colour_is_stage_colour(fixture, request):
    transcript = request.getfixturevalue(fixture)
    rows = ladder_rows(analyze_transcript(transcript).connections[0])
    for row, arrow in zip(rows, _arrows(draw_ladder(transcript))):
        expected = ALERT_COLOUR if row.name == "Alert" else STAGE_COLOURS[row.stage]
        assert arrow.get_edgecolor() == to_rgba(expected), f"record {row.record} {row.name}"


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_label_colour_is_arrow_colour(fixture, request):
    figure = draw_ladder(request.getfixturevalue(fixture))
    for label, arrow in zip(_texts(figure, "label-"), _arrows(figure)):
        assert to_rgba(label.get_color()) == arrow.get_edgecolor(), label.get_text()


def test_tls13_stage_colours_by_message(tls13):
    figure = draw_ladder(tls13)
    colours = [arrow.get_edgecolor() for arrow in _arrows(figure)][: len(TLS13_LABELS)]
    stages = [1, 2, 2, 2, 2, 2, 3, 3, 4, 4, 5, 5]
    assert colours == [to_rgba(STAGE_COLOURS[stage]) for stage in stages]


def test_tls12_server_key_exchange_in_stage_3_colour(tls12):
    figure = draw_ladder(tls12)
    assert _arrows(figure)[3].get_edgecolor() == to_rgba(STAGE_COLOURS[3])


def test_stage_column_names_each_stage(tls13):
    stages = [text.get_text() for text in _texts(draw_ladder(tls13), "stage-")]
    assert stages[:3] == ["stage 1", "stage 2", "stage 2"]


def test_legend_lists_six_stages_and_alert(tls13):
    (legend,) = draw_ladder(tls13).legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "1 ClientHello",
        "2 ServerHello and server Certificate",
        "3 server verification by the client",
        "4 client Certificate",
        "5 client verification by the server",
        "6 secure channel",
        "alert",
    ]


# --- encryption marks -------------------------------------------------------------------------------


def test_tls13_encrypted_marks(tls13):
    figure = draw_ladder(tls13)
    marked = {_row_of(text) for text in _texts(figure, "encrypted-")}
    assert 0 not in marked  # ClientHello
    assert 1 not in marked  # ServerHello
    assert 2 not in marked  # ChangeCipherSpec
    assert {3, 4, 5, 6, 7} <= marked  # EncryptedExtensions to the server's Finished


def test_tls12_certificates_in_clear(tls12):
    figure = draw_ladder(tls12)
    marked = {_row_of(text) for text in _texts(figure, "encrypted-")}
    assert 2 not in marked  # the server's Certificate
    assert 6 not in marked  # the client's Certificate
    assert 10 in marked  # the client's Finished, after its ChangeCipherSpec


# --- failures: alerts, stop line and completion markers -----------------------------------------------


def test_failure_alert_label_and_colour(missing13):
    figure = draw_ladder(missing13)
    alert = _texts(figure, "label-")[-1]
    assert alert.get_text() == "Alert: certificate_required (116), fatal"
    assert to_rgba(alert.get_color()) == to_rgba(ALERT_COLOUR)


def test_tls12_failure_alert_label(missing12):
    assert _labels(draw_ladder(missing12))[-1] == "Alert: handshake_failure (40), fatal"


def test_failure_stop_line_names_stage(missing13):
    (stop,) = _texts(draw_ladder(missing13), "stop-text")
    assert stop.get_text() == "handshake stopped: stage 5, client verification by the server"


def test_failure_stop_line_below_alert(missing13):
    figure = draw_ladder(missing13)
    (stop,) = _texts(figure, "stop-text")
    alert = _texts(figure, "label-")[-1]
    assert stop.get_position()[1] > alert.get_position()[1]


def test_success_has_no_stop_line(tls13):
    assert _texts(draw_ladder(tls13), "stop-text") == []


def test_failure_title_names_stage(missing13):
    title = _axes(draw_ladder(missing13)).get_title(loc="left")
    assert title == "TLS 1.3 handshake: stopped at stage 5 (client verification by the server)"


def test_success_title(tls13):
    assert _axes(draw_ladder(tls13)).get_title(loc="left") == "TLS 1.3 mTLS handshake: complete"


def test_custom_title(tls13):
    assert _axes(draw_ladder(tls13, title="mine")).get_title(loc="left") == "mine"


def test_tls13_client_complete_before_rejection(missing13):
    figure = draw_ladder(missing13)
    (complete,) = _texts(figure, "complete-")
    alert = _texts(figure, "label-")[-1]
    assert complete.get_text() == "client: handshake complete"
    assert complete.get_position()[1] < alert.get_position()[1]


def test_tls12_rejected_client_never_complete(missing12):
    assert _texts(draw_ladder(missing12), "complete-") == []


@pytest.mark.parametrize("fixture", ["tls12", "tls13"])
def test_success_both_sides_complete(fixture, request):
    texts = _texts(draw_ladder(request.getfixturevalue(fixture)), "complete-")
    assert sorted(text.get_text() for text in texts) == ["client: handshake complete", "server: handshake complete"]


def test_tls13_completion_after_client_finished(tls13):
    figure = draw_ladder(tls13)
    texts = {text.get_gid(): text.get_position()[1] for text in _texts(figure, "complete-")}
    assert texts["complete-client"] == pytest.approx(11.45)  # row 11 is the client's Finished
    assert texts["complete-server"] == pytest.approx(11.45)


def test_tls12_completion_after_server_finished(tls12):
    figure = draw_ladder(tls12)
    labels = _labels(figure)
    finished = max(index for index, label in enumerate(labels) if label == "Finished")
    (client,) = [text for text in _texts(figure, "complete-client")]
    assert client.get_position()[1] == pytest.approx(finished + 0.45)


def test_close_notify_not_fatal(tls13):
    rows = ladder_rows(analyze_transcript(tls13).connections[0])
    assert [row.fatal for row in rows if row.name == "Alert"] == [False, False]


def test_rejection_alert_fatal(missing13):
    rows = ladder_rows(analyze_transcript(missing13).connections[0])
    assert rows[-1].fatal


# --- inputs -----------------------------------------------------------------------------------------


def test_draws_capture_report(tls13):
    report = analyze_transcript(tls13)
    assert _labels(draw_ladder(report))[0] == "ClientHello"


def test_draws_connection_stages(tls13):
    result = analyze_transcript(tls13).connections[0]
    assert _labels(draw_ladder(result))[0] == "ClientHello"


def test_select_connection_rejects_missing_number(tls13):
    with pytest.raises(InputError, match="connection 2 does not exist"):
        select_connection(analyze_transcript(tls13), 2)


def test_select_connection_rejects_zero(tls13):
    with pytest.raises(InputError, match="numbered from 1"):
        select_connection(analyze_transcript(tls13), 0)


def test_select_connection_rejects_other_types():
    with pytest.raises(InputError, match="a str is not a handshake to show"):
        select_connection("handshake.pcap")


def test_figure_height_grows_with_messages(tls13, missing13):
    assert draw_ladder(tls13).get_figheight() > draw_ladder(missing13).get_figheight()


def test_one_way_title(server, root):
    transcript = record_handshake(
        server_context(server, require_client_certificate=False, tls_version="1.3"),
        client_context(root, None, tls_version="1.3"),
    )
    title = _axes(draw_ladder(transcript)).get_title(loc="left")
    assert title == "TLS 1.3 handshake without a client certificate: complete"
