"""The realtime WebSocket protocol (``config.realtime_path``, default ``/realtime``; API contract "Realtime").

Client → server (JSON text frames)::

    {"type": "auth", "token": "<access JWT, API key, or a plugin's token>"}  first, within realtime_auth_timeout s
    {"type": "auth"}                          no token: the handshake's own identity (host users; allowed origins only)
    {"type": "subscribe", "channel": "media_updates"|"collection_updates", "resource_id"?: "<id>"}
    {"type": "unsubscribe", "channel": ..., "resource_id"?: ...}

Server → client::

    {"type": "auth_ok"}
    {"type": "subscribed"|"unsubscribed", "channel", "resource_id"}      resource_id null: all the caller's
    {"type": "event", "id", "channel", "resource_id", "event", "data", "timestamp"}
    {"type": "error", "error": {"code", "message"}, "channel"?, "resource_id"?}

Close codes: 4401 when the first message is not a valid ``auth`` (bad, expired or revoked token, or anything
else), when none arrives in time, and as soon as the login behind the socket ends (logout: pushed through
the broker at once; expiry; anything else found by a re-check every ``realtime_recheck_interval`` s).
Sending a fresh ``auth`` for the same user at any time extends the socket past the first token's expiry.
The token goes through the vault's provider chain, as an HTTP request's credential would (plugins' providers too;
:meth:`~mediavault.auth.chain.ProviderChain.authenticate_token`), on the first ``auth`` and on every re-check.
An ``auth`` without a token asks the chain about the handshake itself (its cookies, the host's ``scope["user"]``:
``MediaVaultConfig.host_identity``), and only when the handshake's ``Origin`` is the socket's own origin or one of
``cors_allow_origins`` (:func:`handshake_origin_allowed`): any other site's page is refused, whatever cookies its
visitor's browser sent (cross-site WebSocket hijacking; docs/security.md).

An API key limited to some scopes (:mod:`mediavault.auth.scopes`) reads over the socket what it may read over HTTP:
subscribing to ``media_updates`` needs ``media:read``, to ``collection_updates`` ``collections:read`` (else the
error ``forbidden`` naming the scope, whatever the resource); and each event is sent only when the socket's current
principal holds the read scope of the event's kind (``media.*``: ``media:read``, ``collection.*``:
``collections:read``, ``share.*``: ``shares:read``; any other kind: every scope), so a ``media.uploaded`` carried
on ``collection_updates`` never reaches a key without ``media:read``, nor does anything after a fresh ``auth`` with a
narrower key.

Every subscription is authorised when made, through the owner-scoped lookup
(:func:`~mediavault.domain.ownership.get_owned`): someone else's resource, an unknown or malformed id is
the error ``not_found`` (existence is never revealed), and no event of it is ever sent. Events reach a socket
only through its own user's broker channel, so a subscription without ``resource_id`` means "all of my
media" (or collections). Malformed messages get a ``validation_error`` frame and the socket stays open.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
import anyio.abc
import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler

from mediavault.auth.providers import Principal
from mediavault.auth.scopes import SCOPE_OPT, check_scope
from mediavault.db import models
from mediavault.domain.ownership import get_owned
from mediavault.errors import NotFound, Unauthorized, VaultError
from mediavault.realtime.hub import event_targets

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from mediavault.auth.chain import ProviderChain
    from mediavault.config import MediaVaultConfig
    from mediavault.realtime.hub import RealtimeHub

__all__ = (
    "CLOSE_UNAUTHORIZED",
    "MAX_MESSAGE_CHARS",
    "MAX_SUBSCRIPTIONS",
    "handshake_origin_allowed",
    "realtime_handler",
)

logger = logging.getLogger("mediavault")

CLOSE_UNAUTHORIZED = 4401
"""Close code for authentication failures (the 4000-4999 private range, mirroring HTTP 401)."""
MAX_SUBSCRIPTIONS = 100
"""Subscriptions one socket may hold at once."""
MAX_MESSAGE_CHARS = 8192
"""Longest client message accepted (larger ones get a ``validation_error`` frame)."""

Channel = Literal["media_updates", "collection_updates"]
ResourceId = Annotated[str, msgspec.Meta(max_length=100)]
_RESOURCE_MODELS = {"media_updates": ("Media", "Media"), "collection_updates": ("Collection", "Collection")}
_CHANNEL_AREAS = {"media_updates": "media", "collection_updates": "collections"}
"""The scope area whose read scope a channel needs (``media_updates``: ``media:read``)."""
_EVENT_AREAS = {"media": "media", "collection": "collections", "share": "shares"}
"""The scope area of an event, by the part of its name before the dot; any other kind needs every scope."""


class AuthMessage(msgspec.Struct, tag="auth", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "auth", "token"}``; without ``token``: the handshake's own identity."""

    token: Annotated[str, msgspec.Meta(max_length=4096)] | None = None


class SubscribeMessage(msgspec.Struct, tag="subscribe", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "subscribe", "channel", "resource_id"?}``."""

    channel: Channel
    resource_id: ResourceId | None = None


class UnsubscribeMessage(msgspec.Struct, tag="unsubscribe", tag_field="type", forbid_unknown_fields=True):
    """``{"type": "unsubscribe", "channel", "resource_id"?}``."""

    channel: Channel
    resource_id: ResourceId | None = None


ClientMessage = AuthMessage | SubscribeMessage | UnsubscribeMessage
_decode_client = msgspec.json.Decoder(ClientMessage)
_decode_broker = msgspec.json.Decoder(dict[str, Any])
_encode = msgspec.json.Encoder()


class _Closed(Exception):
    """The socket was closed (by us or the client): stop every task of the session."""


class RealtimeSession:
    """One WebSocket connection: authentication, subscriptions, event delivery, login watch.

    Args:
        socket: the accepted-to-be connection.
        config: ``realtime_auth_timeout`` and ``realtime_recheck_interval`` are read.
        session_factory: opens a database session (one per lookup; a socket holds none while idle).
        auth_chain: the vault's auth providers (the ``auth`` message's token goes through them).
        hub: the vault's broker (the user's channel).
    """

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        *,
        config: MediaVaultConfig,
        session_factory: Callable[[], AsyncSession],
        auth_chain: ProviderChain,
        hub: RealtimeHub,
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.auth_chain = auth_chain
        self.hub = hub
        self.socket = socket
        self.principal: Principal | None = None
        self.token: str | None = None
        self.expires_at: float | None = None
        self.subscriptions: set[tuple[str, str | None]] = set()
        self._send_lock = anyio.Lock()
        self._recheck = anyio.Event()
        self._closed = False

    # ------------------------------------------------------------------ plumbing

    async def send(self, frame: dict[str, Any]) -> None:
        if self._closed:
            raise _Closed
        async with self._send_lock:
            try:
                await self.socket.send_text(_encode.encode(frame).decode())
            except (WebSocketDisconnect, RuntimeError, OSError) as exc:
                self._closed = True
                raise _Closed from exc

    async def send_error(self, code: str, message: str, **context: Any) -> None:
        await self.send({"type": "error", "error": {"code": code, "message": message}, **context})

    async def close_unauthorized(self, message: str) -> None:
        """Send an ``unauthorized`` error frame, close with 4401 and stop the session."""
        with contextlib.suppress(_Closed):
            await self.send_error("unauthorized", message)
        if not self._closed:
            self._closed = True
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.socket.close(code=CLOSE_UNAUTHORIZED, reason=message[:120])
        raise _Closed

    async def receive(self) -> str:
        try:
            return await self.socket.receive_text()
        except (WebSocketDisconnect, RuntimeError) as exc:
            self._closed = True
            raise _Closed from exc

    async def resolve(self, token: str | None) -> Principal:
        """The principal of ``token``, through the vault's provider chain (the same providers as HTTP requests:
        an access JWT, an ``mvk_`` API key, or whatever a plugin's provider accepts; see
        :meth:`~mediavault.auth.chain.ProviderChain.authenticate_token`); without a token, of the handshake, if it
        came from an allowed origin (:meth:`~mediavault.auth.chain.ProviderChain.authenticate_handshake`).

        Raises:
            Unauthorized: invalid, expired or revoked; no token from a handshake of another origin.
        """
        if token is None and not handshake_origin_allowed(self.socket, self.config.cors_allow_origins):
            raise Unauthorized("Send a token: the handshake's Origin is not allowed to use its own credentials")
        async with self.session_factory() as session:
            if token is None:
                return await self.auth_chain.authenticate_handshake(self.socket, session)
            return await self.auth_chain.authenticate_token(self.socket, token, session)

    # ------------------------------------------------------------------ session

    async def run(self) -> None:
        await self.socket.accept()
        try:
            await self.authenticate_first()
            assert self.principal is not None
            hub = self.hub
            subscriber = await hub.channels.subscribe(hub.user_channel(self.principal.user_id))
            try:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._until_closed, self.pump_events, subscriber, tasks)
                    tasks.start_soon(self._until_closed, self.watch_login, None, tasks)
                    await self._until_closed(self.read_loop, None, tasks)
            finally:
                await hub.channels.unsubscribe(subscriber)
        except _Closed:
            pass
        finally:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                    await self.socket.close()

    async def _until_closed(self, fn: Any, arg: Any, tasks: anyio.abc.TaskGroup) -> None:
        try:
            await (fn(arg) if arg is not None else fn())
        except _Closed:
            pass
        finally:
            tasks.cancel_scope.cancel()

    async def authenticate_first(self) -> None:
        """Wait for the ``auth`` message; anything else, or nothing in time, closes with 4401."""
        timeout = self.config.realtime_auth_timeout
        with anyio.move_on_after(timeout) as scope:
            raw = await self.receive()
        if scope.cancelled_caught:
            await self.close_unauthorized(f"No auth message within {timeout:g} s")
        try:
            message = _decode_client.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            message = None
        if not isinstance(message, AuthMessage):
            await self.close_unauthorized('Send {"type": "auth", "token": "<access token>"} first')
        assert isinstance(message, AuthMessage)
        await self.apply_auth(message.token)

    async def apply_auth(self, token: str | None) -> None:
        """Adopt ``token`` (first auth, or a fresh token later); a bad one, or another user's, closes with 4401."""
        try:
            principal = await self.resolve(token)
        except Unauthorized as exc:
            await self.close_unauthorized(exc.message)
            return
        if self.principal is not None and principal.user_id != self.principal.user_id:
            await self.close_unauthorized("A socket stays with the user it authenticated as")
        self.principal, self.token, self.expires_at = principal, token, principal.expires_at
        self._recheck.set()  # the watcher recomputes its deadline
        await self.send({"type": "auth_ok"})

    async def read_loop(self) -> None:
        while True:
            raw = await self.receive()
            if len(raw) > MAX_MESSAGE_CHARS:
                await self.send_error("validation_error", f"Message longer than {MAX_MESSAGE_CHARS} characters")
                continue
            try:
                message = _decode_client.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                await self.send_error("validation_error", f"Invalid message: {exc}")
                continue
            if isinstance(message, AuthMessage):
                await self.apply_auth(message.token)
            elif isinstance(message, SubscribeMessage):
                await self.subscribe(message.channel, message.resource_id)
            else:
                resource_id = _canonical(message.resource_id)
                self.subscriptions.discard((message.channel, resource_id))
                await self.send({"type": "unsubscribed", "channel": message.channel, "resource_id": resource_id})

    async def subscribe(self, channel: str, raw_id: str | None) -> None:
        """Authorise and record one subscription (``resource_id`` must be the caller's own resource)."""
        assert self.principal is not None
        resource_id = _canonical(raw_id)
        context = {"channel": channel, "resource_id": raw_id}
        if (channel, resource_id) not in self.subscriptions and len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self.send_error("validation_error", f"At most {MAX_SUBSCRIPTIONS} subscriptions", **context)
            return
        try:
            if self.principal.scopes is not None:  # before the lookup: a key without the scope learns nothing
                check_scope(self.principal.scopes, {SCOPE_OPT: _CHANNEL_AREAS[channel]}, "GET")
            if raw_id is not None:
                model_name, what = _RESOURCE_MODELS[channel]
                model = getattr(models, model_name, None)
                if model is None:
                    raise NotFound(f"{what} not found")
                async with self.session_factory() as session:
                    await get_owned(session, model, self.principal, raw_id, what=what)
        except VaultError as exc:
            await self.send_error(exc.code, exc.message, **context)
            return
        self.subscriptions.add((channel, resource_id))
        await self.send({"type": "subscribed", "channel": channel, "resource_id": resource_id})

    async def pump_events(self, subscriber: Any) -> None:
        """Forward the user's events that match a subscription; react to revocation notices."""
        async for raw in subscriber.iter_events():
            try:
                message = _decode_broker.decode(raw)
            except msgspec.DecodeError:  # pragma: no cover - only the vault publishes here
                continue
            if message.get("kind") == "recheck":
                self._recheck.set()
                continue
            payload = message.get("payload") or {}
            name, data = str(payload.get("event", "")), payload.get("data") or {}
            if not self.may_read(name):
                continue
            for channel, resource_id in event_targets(name, data):
                if (channel, None) in self.subscriptions or (channel, resource_id) in self.subscriptions:
                    await self.send(
                        {
                            "type": "event",
                            "id": payload.get("id"),
                            "channel": channel,
                            "resource_id": resource_id,
                            "event": name,
                            "data": data,
                            "timestamp": payload.get("timestamp"),
                        }
                    )

    def may_read(self, event: str) -> bool:
        """Whether the socket's principal holds the read scope of ``event``'s kind (see the module's docstring)."""
        held = self.principal.scopes if self.principal is not None else frozenset()
        if held is None:
            return True
        area = _EVENT_AREAS.get(event.partition(".")[0])
        return area is not None and f"{area}:read" in held

    async def watch_login(self) -> None:
        """Re-check the login on a revocation notice, every ``realtime_recheck_interval`` s, and at expiry."""
        while True:
            wait = self.config.realtime_recheck_interval
            if self.expires_at is not None:
                wait = min(wait, max(0.0, self.expires_at - time.time()) + 0.5)
            with anyio.move_on_after(wait):
                await self._recheck.wait()
            self._recheck = anyio.Event()
            try:
                await self.resolve(self.token)
            except Unauthorized as exc:
                await self.close_unauthorized(exc.message)


def handshake_origin_allowed(socket: WebSocket[Any, Any, Any], allowed_origins: Collection[str]) -> bool:
    """Whether a WebSocket handshake's ``Origin`` (RFC 6455 §4.1, RFC 6454) is the socket's own origin (the
    ``Host`` header, ``http`` for ``ws``, ``https`` for ``wss``) or one of ``allowed_origins`` (``*`` not counted).

    Browsers always send ``Origin`` with a handshake, so a page of another site is recognised; a handshake without
    one is refused too.
    """
    origin = socket.headers.get("origin", "").rstrip("/").lower()
    if not origin or origin == "null":
        return False
    if origin in {o.rstrip("/").lower() for o in allowed_origins if o != "*"}:
        return True
    scheme = "https" if socket.scope.get("scheme") == "wss" else "http"
    host = socket.headers.get("host", "").lower()
    return bool(host) and origin == f"{scheme}://{host}"


def _canonical(raw_id: str | None) -> str | None:
    """Ids as events carry them (lower-case hyphenated UUIDs); anything else is kept as given."""
    if raw_id is None:
        return None
    try:
        return str(uuid.UUID(raw_id))
    except ValueError:
        return raw_id


def realtime_handler(
    config: MediaVaultConfig, session_factory: Callable[[], AsyncSession], auth_chain: ProviderChain, hub: RealtimeHub
) -> WebsocketRouteHandler:
    """The WebSocket route of one vault, at ``config.realtime_path`` (outside the prefix); each connection is a
    :class:`RealtimeSession` with these parts."""

    @websocket(config.realtime_path, include_in_schema=False)
    async def realtime(socket: WebSocket[Any, Any, Any]) -> None:
        """The realtime endpoint (see :mod:`mediavault.realtime.socket`)."""
        await RealtimeSession(
            socket, config=config, session_factory=session_factory, auth_chain=auth_chain, hub=hub
        ).run()

    return realtime
