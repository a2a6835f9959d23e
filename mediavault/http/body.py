"""A request body read straight from the ASGI ``receive`` channel, for streamed uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from litestar import Request
from litestar.types import Receive

from mediavault.errors import ClientDisconnected, VaultError
from mediavault.http.session import release_request_session

__all__ = ("RequestBody", "request_body")


class RequestBody:
    """Async iterator over the chunks of a request body (``http.request`` messages).

    Unlike ``Request.stream()`` it can be resumed after the consumer stopped early, which
    :meth:`drain` uses to read the rest of a rejected body before the error response is sent.

    Raises:
        ClientDisconnected: the client disconnected mid-body, or the server cut it off (``client_body_timeout``),
            while iterating.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.finished = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self.finished:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.finished = True
                raise ClientDisconnected()
            self.finished = not message.get("more_body", False)
            body: bytes = message.get("body", b"")  # type: ignore[assignment]
            if body:
                yield body

    async def drain(self, *, max_bytes: int = 1024**3, max_seconds: float = 30.0) -> None:
        """Read and discard what is left of a rejected body, so the error response reaches the client.

        A server that answers 413 and closes while the client is still sending makes most clients see
        a connection reset instead of the answer (nginx's ``lingering_close`` exists for the same
        reason). Stops after ``max_bytes`` or ``max_seconds``; a disconnect ends it quietly.
        """
        seen = 0
        with anyio.move_on_after(max_seconds):
            try:
                async for chunk in self:
                    seen += len(chunk)
                    if seen >= max_bytes:
                        return
            except ClientDisconnected:
                return


@asynccontextmanager
async def request_body(request: Request[Any, Any, Any]) -> AsyncIterator[RequestBody]:
    """The request's body (:class:`RequestBody`) for the block to read; when the block refuses it (any
    :class:`~mediavault.errors.VaultError`), the rest is drained (:meth:`RequestBody.drain`) before the error goes on,
    so a client still sending reads the answer instead of a connection reset. The request's database work is over
    by then: its session gives its connection back first (:func:`~mediavault.http.session.release_request_session`),
    or a client sending slowly would hold it for the drain's 30 s (e.g. a body whose closing boundary came at once,
    so the upload kept its connection, and which then goes on)."""
    body = RequestBody(request.receive)
    try:
        yield body
    except VaultError:
        await release_request_session(request.scope)
        await body.drain()
        raise
