"""The realtime WebSocket client (``docs/realtime.md``): authenticate, subscribe, iterate over events.

.. code-block:: python

    async with AsyncClient("http://127.0.0.1:8080", api_key="mvk_...") as vault:
        async with vault.realtime() as live:
            await live.subscribe("media_updates")  # every media of the caller, new uploads included
            async for event in live:
                print(event.event, event.resource_id, event.data)

Needs ``pip install "mediavault-sdk[realtime]"`` (the ``websockets`` library). Events are not replayed: after a
reconnect, re-read what matters over HTTP.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import msgspec

try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed
except ModuleNotFoundError as missing:  # the extra was not installed
    raise ModuleNotFoundError(
        'the realtime client needs the websockets library: pip install "mediavault-sdk[realtime]"', name=missing.name
    ) from missing

from mediavault_sdk.errors import Unauthorized, VaultError, error_for

__all__ = ("CLOSE_UNAUTHORIZED", "Channel", "Event", "Realtime")

Channel = Literal["media_updates", "collection_updates"]
"""A subscription's channel: changes of media, or of collections."""

CLOSE_UNAUTHORIZED = 4401
"""The close code of a socket whose login ended (logout, expiry, a revoked key) or never began."""


class Event(msgspec.Struct):
    """One event: ``event`` (``media.uploaded``, ``media.updated``, ``collection.created``...), its ``data`` as in
    the webhook of the same name, the ``channel`` and ``resource_id`` it matched, its ``id`` (the webhook delivery's
    ``webhook-id``, to de-duplicate) and ``timestamp`` (RFC 3339, UTC)."""

    id: str
    channel: str
    event: str
    data: dict[str, Any]
    timestamp: str
    resource_id: str | None = None


class _ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: list[dict[str, str]] = []


class _Frame(msgspec.Struct):
    type: str
    channel: str | None = None
    resource_id: str | None = None
    error: _ErrorBody | None = None


_frame = msgspec.json.Decoder(_Frame)
_event = msgspec.json.Decoder(Event)


class Realtime:
    """One realtime socket (an async context manager and an async iterator of :class:`Event`).

    Args:
        url: the server, e.g. ``"http://127.0.0.1:8080"`` (``https`` becomes ``wss``).
        token: an access token or an API key (``mvk_...``), sent in the first message, never in the URL; or an
            async function returning one, awaited on entering (the clients pass one that refreshes an access token
            about to expire first, so a socket never opens with a stale token).
        path: the server's ``realtime_path``.
        connect_options: passed to :func:`websockets.asyncio.client.connect` (``open_timeout``, ``ssl``...).

    Raises:
        Unauthorized: (entering, or while iterating) the token was refused or the login behind it ended.
    """

    def __init__(
        self, url: str, token: str | Callable[[], Awaitable[str]], *, path: str = "/realtime", **connect_options: Any
    ) -> None:
        origin = url.rstrip("/")
        self.url = "ws" + origin.removeprefix("http") + path if origin.startswith("http") else origin + path
        self._token = token
        self._options = connect_options
        self._socket: ClientConnection | None = None
        self._events: collections.deque[Event] = collections.deque()

    async def __aenter__(self) -> Realtime:
        self._socket = await connect(self.url, **self._options)
        try:
            await self.authenticate(self._token if isinstance(self._token, str) else await self._token())
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            await self._socket.close()

    async def authenticate(self, token: str) -> None:
        """Send ``auth`` with ``token`` and wait for ``auth_ok``; call again with a fresh token before the access
        token expires to keep the socket open past it (same user only)."""
        await self._send({"type": "auth", "token": token})
        await self._answer("auth_ok")

    async def subscribe(self, channel: Channel, resource_id: str | None = None) -> None:
        """Receive the events of ``channel``: of one media or collection (``resource_id``), or of all of the
        caller's (``None``, new ones included).

        Raises:
            NotFound: ``resource_id`` is not the caller's (or unknown, or malformed).
            ValidationError: an unknown channel, or more than 100 subscriptions.
        """
        await self._send({"type": "subscribe", "channel": channel, "resource_id": resource_id})
        await self._answer("subscribed")

    async def unsubscribe(self, channel: Channel, resource_id: str | None = None) -> None:
        """Stop receiving what :meth:`subscribe` with the same arguments asked for (idempotent)."""
        await self._send({"type": "unsubscribe", "channel": channel, "resource_id": resource_id})
        await self._answer("unsubscribed")

    def __aiter__(self) -> Realtime:
        return self

    async def __anext__(self) -> Event:
        """The next event; the iteration ends when the server closes the socket normally.

        Raises:
            Unauthorized: the socket was closed because its login ended (close code 4401).
            VaultError: an error frame arrived (e.g. a malformed message of ours).
        """
        if self._events:
            return self._events.popleft()
        try:
            return await self._next_event()
        except _Closed:
            raise StopAsyncIteration from None

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._socket is not None, "use Realtime as an async context manager"
        await self._socket.send(msgspec.json.encode({k: v for k, v in message.items() if v is not None}).decode())

    async def _answer(self, expected: str) -> None:
        """Read frames until ``expected`` arrives, keeping the events that come first for the iteration."""
        while True:
            raw = await self._receive()
            frame = _frame.decode(raw)
            if frame.type == expected:
                return
            if frame.type == "event":
                self._events.append(_event.decode(raw))
            elif frame.type == "error":
                raise _error(frame)

    async def _next_event(self) -> Event:
        while True:
            raw = await self._receive()
            frame = _frame.decode(raw)
            if frame.type == "event":
                return _event.decode(raw)
            if frame.type == "error":
                raise _error(frame)

    async def _receive(self) -> bytes:
        assert self._socket is not None, "use Realtime as an async context manager"
        try:
            message = await self._socket.recv()
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code == CLOSE_UNAUTHORIZED:
                raise Unauthorized(exc.rcvd.reason or "the login behind this socket ended") from exc
            raise _Closed("the server closed the realtime socket") from exc
        return message.encode() if isinstance(message, str) else message


class _Closed(VaultError):
    """The server closed the socket without an error (ends an iteration; raised by the other methods)."""


def _error(frame: _Frame) -> VaultError:
    body = frame.error or _ErrorBody("internal_error", "error frame without an error")
    return error_for(body.code, body.message, body.details)
