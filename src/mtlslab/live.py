"""Record a handshake live: sniff the loopback interface while real sockets run the handshake.

The recorder starts its own server on 127.0.0.1 on a port the system assigns. It sniffs
only the loopback interface, with scapy, for TCP packets to or from that exact port,
while the client and server of :mod:`mtlslab.handshake` run. The captured frames become
the same :class:`~mtlslab.record.Transcript` that the in-memory recorder returns. Sniffing needs
root or the CAP_NET_RAW capability; :func:`live_capture_unavailable` says why it is not
possible, and :func:`record` falls back to the in-memory recorder then.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
from pathlib import Path

from mtlslab.handshake import DEFAULT_TIMEOUT, LOOPBACK, REQUEST, run_handshake
from mtlslab.pcap import Frame
from mtlslab.record import Transcript, record_handshake, trust_anchors
from mtlslab.tcpstream import Flight, TcpConnection, reassemble

_CAP_NET_RAW = 13  # bit number in the capability sets of /proc/self/status


def live_capture_unavailable() -> str | None:
    """Return why this process cannot sniff the loopback interface, or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"live capture is implemented for Linux only, and this system is {sys.platform}"
    if os.geteuid() != 0 and not _has_cap_net_raw():
        return "sniffing needs root or the CAP_NET_RAW capability, and this process has neither"
    try:
        import scapy.arch  # noqa: F401  (sets conf.L2listen for this platform)
        import scapy.layers.l2  # noqa: F401  (maps the loopback link type to Ether)
        from scapy.config import conf

        probe = conf.L2listen(iface=conf.loopback_name)
        probe.close()
    except (OSError, ImportError) as error:
        return f"opening a packet socket on the loopback interface failed: {error}"
    return None


def _has_cap_net_raw() -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_NET_RAW & 1)
    return False


def record(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    *,
    live: bool = False,
    server_hostname: str | None = "localhost",
    request: bytes = REQUEST,
) -> Transcript:
    """Record one handshake, live when ``live`` is set and possible, else in memory.

    When live capture was requested but is not possible, the transcript's ``notes`` give
    the reason and state that the in-memory recorder ran instead.
    """
    reason = live_capture_unavailable() if live else None
    if live and reason is None:
        try:
            return record_live(server_context, client_context, server_hostname=server_hostname, request=request)
        except (RuntimeError, OSError) as error:
            reason = f"the live recording failed: {error}"
    transcript = record_handshake(server_context, client_context, server_hostname=server_hostname, request=request)
    if live:
        transcript.notes.append(f"live capture is not possible ({reason}); the handshake was recorded in memory")
    return transcript


def record_live(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    *,
    server_hostname: str | None = "localhost",
    request: bytes = REQUEST,
    timeout: float = DEFAULT_TIMEOUT,
) -> Transcript:
    """Sniff the loopback interface while a socket handshake runs, and return the transcript.

    Raises RuntimeError when the sniffer cannot start or captures no packet of the connection.
    """
    import scapy.arch  # noqa: F401  (sets conf.L2listen for this platform)
    from scapy.config import conf
    from scapy.layers.inet import TCP  # noqa: F401  (registers the TCP layer that the filters read)
    from scapy.layers.l2 import Ether
    from scapy.sendrecv import AsyncSniffer

    listener = socket.create_server((LOOPBACK, 0))
    port = listener.getsockname()[1]
    ready = threading.Event()
    closing = {"client": False, "server": False}

    def ours(packet) -> bool:
        tcp = packet.getlayer("TCP")
        return tcp is not None and port in (tcp.sport, tcp.dport)

    def finished(packet) -> bool:
        tcp = packet.getlayer("TCP")
        if tcp is not None and tcp.flags & 0x01:  # FIN
            closing["server" if tcp.sport == port else "client"] = True
        return all(closing.values()) or (tcp is not None and bool(tcp.flags & 0x04))  # both FINs, or RST

    options = {}
    if shutil.which("tcpdump"):
        # scapy compiles a BPF filter with tcpdump; without it the Python filter below still applies.
        options["filter"] = f"tcp port {port}"
    sniffer = AsyncSniffer(
        iface=conf.loopback_name,
        lfilter=ours,
        stop_filter=finished,
        started_callback=ready.set,
        store=True,
        **options,
    )
    sniffer.start()
    if not ready.wait(timeout):
        listener.close()
        _stop(sniffer)
        raise RuntimeError("the packet sniffer on the loopback interface did not start")

    with tempfile.TemporaryDirectory(prefix="mtlslab-keylog-") as directory:
        keylog_path = Path(directory) / "keylog.txt"
        previous = client_context.keylog_filename
        client_context.keylog_filename = str(keylog_path)
        try:
            result = run_handshake(
                server_context,
                client_context,
                server_hostname=server_hostname,
                request=request,
                timeout=timeout,
                listener=listener,
            )
        finally:
            client_context.keylog_filename = previous
        keylog = keylog_path.read_text(encoding="ascii") if keylog_path.exists() else ""

    sniffer.join(timeout=1.0)
    packets = _stop(sniffer)
    frames = _drop_loopback_copies([(float(packet.time), bytes(packet)) for packet in packets if isinstance(packet, Ether)])
    numbered = [Frame(number, time, 1, data) for number, (time, data) in enumerate(frames, start=1)]
    connections, _ = reassemble(numbered)
    if not connections:
        raise RuntimeError(f"the sniffer captured no packet of the connection on port {port}")
    connection = connections[0]
    return Transcript(
        flights=_flights(connection),
        keylog=keylog,
        client=result.client,
        server=result.server,
        client_address=connection.client,
        server_address=connection.server,
        server_name=server_hostname,
        client_anchors=trust_anchors(client_context),
        server_anchors=trust_anchors(server_context),
        recorder="live",
        frames=frames,
    )


# A packet socket on lo receives each packet twice, as it leaves and as it arrives; the copies
# are identical and microseconds apart. A real TCP retransmission waits at least 200 ms (the
# Linux minimum retransmission timeout), so an identical frame within this window is a copy.
_COPY_WINDOW = 0.05


def _drop_loopback_copies(frames: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    kept: list[tuple[float, bytes]] = []
    for time, data in frames:
        if any(data == earlier and time - earlier_time <= _COPY_WINDOW for earlier_time, earlier in kept[-8:]):
            continue
        kept.append((time, data))
    return kept


def _stop(sniffer) -> list:
    if sniffer.running:
        sniffer.stop()
    else:
        sniffer.join()
    return list(sniffer.results or [])


def _flights(connection: TcpConnection) -> list[Flight]:
    """Cut the reassembled streams into flights: consecutive packets from the same sender."""
    pieces = []
    for sender in ("client", "server"):
        stream = connection.stream_of(sender)
        bounds = stream.offsets[1:] + [len(stream.data)]
        for start, end, frame, time in zip(stream.offsets, bounds, stream.frames, stream.times):
            pieces.append((frame, sender, time, stream.data[start:end]))
    flights: list[Flight] = []
    for _, sender, time, data in sorted(pieces, key=lambda piece: piece[0]):
        if flights and flights[-1].sender == sender:
            last = flights[-1]
            flights[-1] = Flight(sender, last.time, last.data + data)
        else:
            flights.append(Flight(sender, time, data))
    return flights
