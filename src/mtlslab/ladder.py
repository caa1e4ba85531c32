"""Draw a ladder diagram of one TLS connection: client and server lifelines, one arrow per message.

The diagram comes from a dissected connection, not from a template: every arrow is a
message that went over the wire, in wire order, named as RFC 5246 and RFC 8446 name it.
Arrows take the colour of the stage the message belongs to (see :mod:`mtlslab.stages`),
alerts are red and carry their RFC name and code, encrypted messages are marked, and a
failed handshake shows the point where it stopped. Where a peer considers its handshake
complete is marked on its lifeline, which shows that a TLS 1.3 client finishes before the
server has judged the client's certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

from mtlslab.alerts import Alert
from mtlslab.dissect import UNDECRYPTED, Message
from mtlslab.errors import InputError
from mtlslab.record import Transcript
from mtlslab.report import CaptureReport, analyze_transcript
from mtlslab.stages import STAGE_TITLES, ConnectionStages

# Okabe-Ito colours, which readers with colour vision deficiencies can tell apart. Red is
# kept for alerts.
STAGE_COLOURS = {
    1: "#0072B2",
    2: "#E69F00",
    3: "#009E73",
    4: "#CC79A7",
    5: "#56B4E9",
    6: "#7F7F7F",
}
ALERT_COLOUR = "#D00000"
LIFELINE_X = {"client": 0.0, "server": 1.0}

_ROW_HEIGHT = 0.36  # inches per message
_WIDTH = 9.0  # inches


@dataclass(frozen=True)
class LadderRow:
    """One arrow of the ladder: a message, who sent it, its label, stage and colour."""

    record: int
    sender: str
    name: str
    label: str
    stage: int | None
    encrypted: bool
    colour: str
    alert: Alert | None = None
    fatal: bool = False

    @property
    def receiver(self) -> str:
        return "server" if self.sender == "client" else "client"


def select_connection(source, number: int = 1) -> ConnectionStages:
    """Return connection ``number`` (1-based) of a capture report, a recorded transcript or a stage report.

    Raises InputError when the report has no connection with that number.
    """
    if isinstance(source, ConnectionStages):
        return source
    if isinstance(source, Transcript):
        source = analyze_transcript(source)
    if isinstance(source, CaptureReport):
        if not 1 <= number <= len(source.connections):
            raise InputError(
                f"connection {number} does not exist: the capture contains {len(source.connections)} TLS "
                "connection(s), numbered from 1"
            )
        return source.connections[number - 1]
    raise InputError(
        f"a {type(source).__name__} is not a handshake to show: pass a Transcript, a CaptureReport or a ConnectionStages"
    )


def message_label(message: Message) -> str:
    """Name a message for the diagram: its RFC name, with the alert or the number of certificates."""
    if message.name == "Alert" and message.decrypted and message.parsed is not None:
        level = message.details.get("level", "")
        return f"Alert: {message.parsed}, {level}" if level else f"Alert: {message.parsed}"
    if message.name == "Alert":
        return "Alert (not decrypted)"
    if message.name == UNDECRYPTED:
        return "encrypted record (not decrypted)"
    if message.name == "Certificate" and message.decrypted and "certificates" in message.details:
        count = len(message.details["certificates"])
        return "Certificate (empty)" if count == 0 else f"Certificate ({count} certificate{'s' * (count != 1)})"
    if not message.decrypted:
        return f"{message.name} (not decrypted)"
    return message.name


def ladder_rows(result: ConnectionStages) -> list[LadderRow]:
    """Return one row per message of ``result`` in wire order, with its label and colour."""
    fatal_records = {event.record for event in result.alerts if event.fatal}
    rows = []
    for message in sorted(result.dissection.messages, key=lambda m: m.record):
        alert = message.parsed if message.name == "Alert" and isinstance(message.parsed, Alert) else None
        is_alert = message.name == "Alert"
        if is_alert:
            colour = ALERT_COLOUR
        elif message.stage is not None:
            colour = STAGE_COLOURS[message.stage]
        else:
            colour = "black"
        rows.append(
            LadderRow(
                record=message.record,
                sender=message.sender,
                name=message.name,
                label=message_label(message),
                stage=message.stage,
                encrypted=message.encrypted,
                colour=colour,
                alert=alert,
                fatal=is_alert and message.record in fatal_records,
            )
        )
    return rows


def completion_points(result: ConnectionStages, rows: list[LadderRow]) -> dict[str, int]:
    """Return, per peer, the index of the row after which that peer considers its handshake complete.

    TLS 1.3 (RFC 8446 appendix A): the client is done once it has sent its Finished, and
    the server once it has received and accepted the client's Finished. TLS 1.2 (RFC 5246
    section 7.3): both are done with the server's Finished, which comes last in a full
    handshake. A peer that rejected the handshake is never done.
    """
    points: dict[str, int] = {}
    names = [(row.sender, row.name) for row in rows]
    fatal_senders = {row.sender for row in rows if row.fatal}
    if result.dissection.tls13:
        if ("client", "Finished") in names:
            index = names.index(("client", "Finished"))
            if "client" not in fatal_senders:
                points["client"] = index
            if "server" not in fatal_senders:
                points["server"] = index
    elif ("server", "Finished") in names:
        index = names.index(("server", "Finished"))
        for peer in ("client", "server"):
            if peer not in fatal_senders:
                points[peer] = index
    return points


def _title(result: ConnectionStages) -> str:
    version = result.dissection.version_name or "TLS"
    if result.handshake == "complete":
        mutual = result.dissection.find("CertificateRequest", "server") is not None
        return f"{version} {'mTLS handshake' if mutual else 'handshake without a client certificate'}: complete"
    if result.stopped_at is not None:
        return f"{version} handshake: stopped at stage {result.stopped_at} ({STAGE_TITLES[result.stopped_at]})"
    return f"{version} handshake: {result.handshake}"


def draw_ladder(source, *, connection: int = 1, title: str | None = None) -> Figure:
    """Draw the ladder diagram of a connection and return the matplotlib Figure.

    ``source`` is a :class:`~mtlslab.record.Transcript`, a capture report or one
    connection's stage report. The figure is built without pyplot, so it appears only
    where the caller displays it: a notebook that ran ``%matplotlib inline`` shows it
    once when it is a cell's result.
    """
    result = select_connection(source, connection)
    rows = ladder_rows(result)
    height = 1.9 + _ROW_HEIGHT * (len(rows) + 2)
    figure = Figure(figsize=(_WIDTH, height), layout="constrained")
    axes = figure.add_subplot()
    bottom = len(rows) + 0.9
    axes.set_xlim(-0.62, 1.62)
    axes.set_ylim(bottom, -1.3)
    axes.axis("off")
    axes.set_title(title if title is not None else _title(result), fontsize=11, loc="left")

    for peer, x in LIFELINE_X.items():
        axes.plot([x, x], [-0.6, bottom - 0.2], color="#444444", linewidth=1.2, zorder=1, gid=f"lifeline-{peer}")
        axes.text(
            x, -0.85, peer, ha="center", va="center", fontsize=10, fontweight="bold", gid=f"peer-{peer}",
            bbox={"boxstyle": "round,pad=0.35", "facecolor": "#F2F2F2", "edgecolor": "#444444"},
        )

    for index, row in enumerate(rows):
        _draw_row(axes, index, row)
    for peer, index in completion_points(result, rows).items():
        _mark_completion(axes, peer, index)
    if result.stopped_at is not None:
        _mark_stop(axes, result, rows)

    _legend(figure, rows)
    return figure


def _draw_row(axes, index: int, row: LadderRow) -> None:
    start, end = LIFELINE_X[row.sender], LIFELINE_X[row.receiver]
    arrow = FancyArrowPatch(
        (start, index),
        (end, index),
        arrowstyle="-|>",
        mutation_scale=12,
        color=row.colour,
        linewidth=2.0 if row.fatal else 1.4,
        shrinkA=0,
        shrinkB=0,
        zorder=3,
        gid=f"arrow-{index}-{row.sender}-to-{row.receiver}",
    )
    axes.add_patch(arrow)
    weight = "bold" if row.alert is not None and row.fatal else "normal"
    axes.text(
        0.5, index - 0.12, row.label, ha="center", va="bottom", fontsize=8.5, color=row.colour,
        fontweight=weight, gid=f"label-{index}",
    )
    stage = f"stage {row.stage}" if row.stage is not None else ""
    axes.text(-0.58, index, f"record {row.record}", ha="left", va="center", fontsize=7.5, color="#555555")
    axes.text(-0.36, index, stage, ha="left", va="center", fontsize=7.5, color=row.colour, gid=f"stage-{index}")
    if row.encrypted:
        axes.text(
            1.06, index, "encrypted", ha="left", va="center", fontsize=7.5, style="italic", color="#333333",
            gid=f"encrypted-{index}",
        )


def _mark_completion(axes, peer: str, index: int) -> None:
    x = LIFELINE_X[peer]
    y = index + 0.45
    axes.plot([x], [y], marker="D", markersize=5, color="black", zorder=4)
    offset, align = (-0.03, "right") if peer == "client" else (0.03, "left")
    axes.text(
        x + offset, y, f"{peer}: handshake complete", ha=align, va="center", fontsize=7.5,
        fontweight="bold", gid=f"complete-{peer}",
    )


def _mark_stop(axes, result: ConnectionStages, rows: list[LadderRow]) -> None:
    fatal_index = next((index for index, row in enumerate(rows) if row.fatal), len(rows) - 1)
    y = fatal_index + 0.5
    axes.plot([-0.05, 1.05], [y, y], color=ALERT_COLOUR, linestyle="--", linewidth=1.3, zorder=2, gid="stop-line")
    stage = result.stopped_at
    axes.text(
        0.5, y + 0.12, f"handshake stopped: stage {stage}, {STAGE_TITLES[stage]}", ha="center", va="top",
        fontsize=8.5, color=ALERT_COLOUR, fontweight="bold", gid="stop-text",
        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none"},
    )


def _legend(figure: Figure, rows: list[LadderRow]) -> None:
    handles = [Patch(color=STAGE_COLOURS[number], label=f"{number} {STAGE_TITLES[number]}") for number in range(1, 7)]
    if any(row.name == "Alert" for row in rows):
        handles.append(Line2D([0], [0], color=ALERT_COLOUR, linewidth=2, label="alert"))
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
