"""A local mesh: workloads behind sidecar-style proxies on 127.0.0.1, in PERMISSIVE or STRICT mode.

Every workload gets an Istio-format certificate (SPIFFE ID from its namespace and
service account) from one mesh CA, a tiny HTTP app, an inbound proxy and, when it calls
another workload, an outbound proxy. A "legacy" client without a sidecar sends
plaintext HTTP straight to the destination's inbound port. Each request is reported
with what the destination's inbound proxy decided and which peer identity it saw.

With ``capture`` every inbound proxy gets a wire tap (:mod:`mtlslab.mesh.tap`) in
front of it, like a packet capture on the pod network, and each result keeps the
bytes the source sent.

Three things differ from a real mesh. The app connects to its outbound proxy's port
directly, where a cluster redirects traffic with iptables or eBPF. One mode applies to
every workload. The policy is a list of allowed SPIFFE IDs per workload.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mtlslab.errors import InputError
from mtlslab.mesh.certificates import create_istio_ca, issue_istio_workload
from mtlslab.mesh.netns import NetworkNamespace
from mtlslab.mesh.proof import tls_record_types
from mtlslab.mesh.proxy import (
    OUTCOMES,
    AuthorizationPolicy,
    InboundEvent,
    InboundProxy,
    OutboundProxy,
    check_mode,
)
from mtlslab.mesh.tap import WireTap
from mtlslab.pki import client_context, istio_spiffe_id, server_context

LEGACY_CLIENT = "legacy"
DEFAULT_TIMEOUT = 5.0
MAX_REQUESTS = 200
MAX_REQUEST_HEAD = 65536

DEMO_WORKLOADS = ("frontend", "batch", "api")
DEMO_POLICY = {"api": ("frontend",)}
DEMO_PLAN = (("frontend", "api"), ("batch", "api"), (LEGACY_CLIENT, "api"), (LEGACY_CLIENT, "frontend"))


@dataclass(frozen=True)
class RequestResult:
    """One request: who sent it, what the destination's inbound proxy decided, and what came back."""

    number: int
    source: str
    destination: str
    mode: str
    transport: str
    outcome: str
    peer_identity: str | None
    response: str
    detail: str
    # The bytes the source sent towards the destination, as the wire tap recorded them, or None without capture.
    sent_bytes: bytes | None = None

    @property
    def record_types(self) -> list[str]:
        """Name the TLS records at the start of ``sent_bytes``, or none for plaintext and without capture."""
        return tls_record_types(self.sent_bytes or b"")

    def __str__(self) -> str:
        identity = self.peer_identity or "(none)"
        return (
            f"#{self.number} {self.source} -> {self.destination} [{self.mode}] {self.transport}: {self.outcome}; "
            f"peer identity {identity}; response {self.response or '(none)'}"
        )


@dataclass
class SimulationReport:
    """Every request's result in order, with counts per outcome."""

    mode: str
    results: list[RequestResult] = field(default_factory=list)
    namespaces: bool = False

    def counts(self, *, source: str | None = None, destination: str | None = None) -> Counter:
        """Count outcomes, optionally only for one source or destination; every outcome appears, even at 0."""
        counter = Counter({outcome: 0 for outcome in OUTCOMES})
        for result in self.results:
            if source is not None and result.source != source:
                continue
            if destination is not None and result.destination != destination:
                continue
            counter[result.outcome] += 1
        return counter

    def __str__(self) -> str:
        lines = [str(result) for result in self.results]
        totals = ", ".join(f"{outcome}: {count}" for outcome, count in self.counts().items())
        lines.append(f"{self.mode} totals: {totals}")
        return "\n".join(lines)


class _Workload:
    def __init__(self, name: str, namespace: str, service_account: str, trust_domain: str):
        self.name = name
        self.spiffe_id = istio_spiffe_id(namespace, service_account, trust_domain)
        self.credential = None
        self.app_server: asyncio.AbstractServer | None = None
        self.app_port = 0
        self.inbound: InboundProxy | None = None
        self.tap: WireTap | None = None
        self.network_namespace: NetworkNamespace | None = None


class MeshSimulator:
    """Run workloads behind sidecar-style proxies; use as ``async with MeshSimulator(...) as mesh``."""

    def __init__(
        self,
        workloads: Iterable[str] = DEMO_WORKLOADS,
        *,
        mode: str = "STRICT",
        policies: Mapping[str, Iterable[str]] | None = None,
        namespace: str = "demo",
        trust_domain: str = "cluster.local",
        timeout: float = DEFAULT_TIMEOUT,
        use_network_namespaces: bool = False,
        capture: bool = False,
    ):
        names = list(workloads)
        if not names:
            raise InputError("a mesh needs at least one workload name")
        if LEGACY_CLIENT in names or len(set(names)) != len(names):
            raise InputError(f"workload names must be unique and not {LEGACY_CLIENT!r}: got {names}")
        self.mode = check_mode(mode)
        self.timeout = timeout
        self.use_network_namespaces = use_network_namespaces
        self.capture = capture
        self._workloads = {name: _Workload(name, namespace, name, trust_domain) for name in names}
        self._policies = {}
        for destination, sources in (policies or {}).items():
            unknown = [name for name in [destination, *sources] if name not in self._workloads]
            if unknown:
                raise InputError(f"policy names unknown workloads {unknown}: use names from {names}")
            allowed = frozenset(self._workloads[source].spiffe_id for source in sources)
            self._policies[destination] = AuthorizationPolicy(allowed)
        self._outbound: dict[tuple[str, str], OutboundProxy] = {}
        self._count = 0
        self.report = SimulationReport(self.mode, namespaces=use_network_namespaces)

    def spiffe_id(self, workload: str) -> str:
        """Return the SPIFFE ID in ``workload``'s certificate."""
        return self._workload(workload).spiffe_id

    @property
    def trust_anchor(self):
        """The root CA certificate every workload trusts (available after :meth:`start`)."""
        return self._trust.certificate

    def inbound_port(self, workload: str) -> int:
        """Return the 127.0.0.1 port of ``workload``'s inbound proxy."""
        return self._workload(workload).inbound.port

    def destination_port(self, workload: str) -> int:
        """Return the 127.0.0.1 port where other workloads connect: the wire tap's with capture, else the inbound proxy's."""
        target = self._workload(workload)
        return target.tap.port if target.tap is not None else target.inbound.port

    def app_port(self, workload: str) -> int:
        """Return the port ``workload``'s app listens on behind its proxy (inside its namespace, if any)."""
        return self._workload(workload).app_port

    async def next_inbound_event(self, workload: str) -> InboundEvent:
        """Wait up to the timeout for the inbound proxy of ``workload`` to report its next connection."""
        return await asyncio.wait_for(self._workload(workload).inbound.events.get(), self.timeout)

    async def __aenter__(self) -> MeshSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def start(self) -> None:
        """Issue the certificates and start every app and inbound proxy."""
        ca = create_istio_ca(plug_in=True)
        trust = ca.root
        try:
            for workload in self._workloads.values():
                namespace, service_account = workload.spiffe_id.split("/ns/")[1].split("/sa/")
                trust_domain = workload.spiffe_id[len("spiffe://"):].split("/")[0]
                workload.credential = issue_istio_workload(
                    ca, namespace, service_account, trust_domain=trust_domain, key_type="ecdsa-p256"
                )
                await self._start_app(workload)
                workload.inbound = InboundProxy(
                    workload.name,
                    server_context(workload.credential, trust),
                    self._app_connector(workload),
                    mode=self.mode,
                    policy=self._policies.get(workload.name),
                    timeout=self.timeout,
                )
                await workload.inbound.start()
                if self.capture:
                    workload.tap = WireTap(workload.inbound.port, timeout=self.timeout)
                    await workload.tap.start()
            self._trust = trust
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop every proxy and app, and delete the network namespaces the simulator created."""
        for proxy in self._outbound.values():
            await proxy.close()
        self._outbound.clear()
        for workload in self._workloads.values():
            if workload.tap is not None:
                await workload.tap.close()
                workload.tap = None
            if workload.inbound is not None:
                await workload.inbound.close()
                workload.inbound = None
            if workload.app_server is not None:
                workload.app_server.close()
                await workload.app_server.wait_closed()
                workload.app_server = None
            if workload.network_namespace is not None:
                workload.network_namespace.delete()
                workload.network_namespace = None

    async def request(self, source: str, destination: str) -> RequestResult:
        """Send one HTTP request from ``source`` (a workload name or ``legacy``) to ``destination``."""
        if self._count >= MAX_REQUESTS:
            raise InputError(f"a simulation sends at most {MAX_REQUESTS} requests: start a new simulator")
        target = self._workload(destination)
        if target.inbound is None:
            raise InputError("the simulator is not running: use 'async with MeshSimulator(...)'")
        self._count += 1

        if source == LEGACY_CLIENT:
            port = self.destination_port(destination)
        else:
            port = (await self._outbound_proxy(source, destination)).port
        response = await self._send_http(port, destination)
        event = await self.next_inbound_event(destination)
        sent_bytes = (await target.tap.next_connection()).sent if target.tap is not None else None
        result = self._result(source, destination, event, response, sent_bytes)
        self.report.results.append(result)
        return result

    async def run(self, plan: Iterable[tuple[str, str]] = DEMO_PLAN, *, repeat: int = 1) -> SimulationReport:
        """Send every (source, destination) request of ``plan``, ``repeat`` times, one at a time."""
        if not 1 <= repeat <= 20:
            raise InputError(f"invalid repeat {repeat!r}: use 1 to 20")
        for _ in range(repeat):
            for source, destination in plan:
                await self.request(source, destination)
        return self.report

    def _workload(self, name: str) -> _Workload:
        try:
            return self._workloads[name]
        except KeyError:
            raise InputError(f"unknown workload {name!r}: use one of {sorted(self._workloads)}") from None

    async def _outbound_proxy(self, source: str, destination: str) -> OutboundProxy:
        key = (source, destination)
        if key not in self._outbound:
            client = self._workload(source)
            target = self._workload(destination)
            proxy = OutboundProxy(
                source,
                client_context(self._trust, client.credential, check_hostname=False),
                self.destination_port(destination),
                target.spiffe_id,
                timeout=self.timeout,
            )
            await proxy.start()
            self._outbound[key] = proxy
        return self._outbound[key]

    async def _start_app(self, workload: _Workload) -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
                body = f"hello from {workload.name}\n".encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
                pass
            finally:
                writer.close()

        if self.use_network_namespaces:
            workload.network_namespace = NetworkNamespace(f"mtlslab-{os.getpid()}-{workload.name}")
            workload.network_namespace.create()
            listener = workload.network_namespace.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.setblocking(False)
            workload.app_server = await asyncio.start_server(answer, sock=listener)
        else:
            workload.app_server = await asyncio.start_server(answer, "127.0.0.1", 0)
        workload.app_port = workload.app_server.sockets[0].getsockname()[1]

    def _app_connector(self, workload: _Workload):
        async def connect():
            if workload.network_namespace is None:
                return await asyncio.open_connection("127.0.0.1", workload.app_port)
            sock = workload.network_namespace.socket()
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", workload.app_port))
            return await asyncio.open_connection(sock=sock)

        return connect

    async def _send_http(self, port: int, destination: str) -> str:
        """Send one request to 127.0.0.1:``port``; return the status line, or a note on how it ended."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), self.timeout)
        except (OSError, asyncio.TimeoutError) as error:
            return f"connection failed: {type(error).__name__}"
        try:
            writer.write(f"GET / HTTP/1.1\r\nHost: {destination}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(MAX_REQUEST_HEAD), self.timeout)
        except ConnectionResetError:
            return "connection reset"
        except (OSError, asyncio.TimeoutError) as error:
            return f"no response: {type(error).__name__}"
        finally:
            writer.close()
        if not data:
            return "connection closed without a response"
        return data.split(b"\r\n", 1)[0].decode("ascii", "replace")

    def _result(
        self, source: str, destination: str, event: InboundEvent, response: str, sent_bytes: bytes | None
    ) -> RequestResult:
        return RequestResult(
            number=self._count,
            source=source,
            destination=destination,
            mode=self.mode,
            transport=event.transport,
            outcome=event.outcome,
            peer_identity=event.peer_identity,
            response=response,
            detail=event.detail,
            sent_bytes=sent_bytes,
        )


def run_simulation(
    mode: str = "STRICT",
    *,
    plan: Iterable[tuple[str, str]] = DEMO_PLAN,
    workloads: Iterable[str] = DEMO_WORKLOADS,
    policies: Mapping[str, Iterable[str]] | None = None,
    repeat: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    use_network_namespaces: bool = False,
    capture: bool = False,
) -> SimulationReport:
    """Run one simulation to the end and return its report; works inside Jupyter's running event loop too.

    With the defaults, ``frontend`` may call ``api`` and ``batch`` may not, and a legacy
    client without a sidecar calls ``api`` and ``frontend``. With ``capture`` each
    result's ``sent_bytes`` contains what the source sent on the wire.
    """
    plan = list(plan)
    policies = DEMO_POLICY if policies is None else policies

    async def simulate() -> SimulationReport:
        async with MeshSimulator(
            workloads,
            mode=mode,
            policies=policies,
            timeout=timeout,
            use_network_namespaces=use_network_namespaces,
            capture=capture,
        ) as mesh:
            return await mesh.run(plan, repeat=repeat)

    # A notebook already runs an event loop in this thread, so the simulation gets its own thread.
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["report"] = asyncio.run(simulate())
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="mtlslab-mesh-simulation")
    thread.start()
    thread.join(timeout * (len(plan) * repeat + 10))
    if thread.is_alive():
        raise TimeoutError("the mesh simulation did not finish in time")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]
