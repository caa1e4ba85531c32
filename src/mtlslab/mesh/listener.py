"""An asyncio stream server on 127.0.0.1 that tracks its connection tasks for a clean shutdown."""

from __future__ import annotations

import asyncio


class LoopbackStreamServer:
    """Listen on 127.0.0.1 on a port the system assigns and hand each connection to :meth:`_handle`.

    Subclasses implement ``_handle(reader, writer)`` and register its task with
    :meth:`_track` so that :meth:`close` can wait for it or cancel it.
    """

    description = "the server"

    def __init__(self, *, timeout: float = 5.0):
        self.timeout = timeout
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        """The port the server listens on, on 127.0.0.1."""
        if self._server is None:
            raise RuntimeError(f"{self.description} has not been started")
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a port the system assigns."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def close(self, grace: float = 0.0) -> None:
        """Stop listening, give open connections ``grace`` seconds to finish, then cancel the rest."""
        if self._server is None:
            return
        self._server.close()
        if grace and self._handlers:
            await asyncio.wait(set(self._handlers), timeout=grace)
        for task in set(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    def _track(self) -> asyncio.Task:
        """Register the running connection task; the caller discards it when the connection ends."""
        task = asyncio.current_task()
        self._handlers.add(task)
        return task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
