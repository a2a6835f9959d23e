"""The broker side of realtime: one Litestar channels instance per vault, one channel per user.

Every committed :class:`~mediavault.events.Event` about a user is published (after commit, from the same
publisher that feeds webhooks) to that user's channel ``<redis_key_prefix>:<path_prefix>:user:<user id>``.
Each socket subscribes to its user's channel and filters by its own subscriptions, so the broker carries
one message per event whatever the number of sockets.

The channels instance is the vault's own (``ChannelsPlugin`` used as a library, started and stopped by the
vault's lifespan, never added to the host's plugins), so a host app's own ``ChannelsPlugin``, its
``channels`` dependency and its routes are left alone. Backend: ``MemoryChannelsBackend`` in one process;
``RedisChannelsPubSubBackend`` when ``redis_url`` is set, so an event raised in one process reaches sockets
held by every other. Each subscriber holds at most ``realtime_max_backlog`` undelivered messages; beyond that
the oldest are dropped (``dropleft``), so a slow consumer cannot grow the server's memory.

Messages on a user channel (JSON)::

    {"kind": "event", "payload": {"id", "event", "data", "timestamp"}}   a committed event
    {"kind": "recheck"}                                                  a login of the user was revoked
"""

from __future__ import annotations

import logging
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

if TYPE_CHECKING:
    from mediavault.config import MediaVaultConfig
    from mediavault.events import Event

__all__ = ("CHANNELS", "RealtimeHub", "event_targets")

logger = logging.getLogger("mediavault")

CHANNELS = ("media_updates", "collection_updates")
"""The channels a client may subscribe to."""


def event_targets(name: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(channel, resource_id)`` pairs an event is delivered on.

    ``media.*`` events go to ``media_updates`` for the media ``data["id"]``; ``collection.*`` events to
    ``collection_updates`` for ``data["collection_id"]`` or ``data["id"]``; any event whose data names a
    ``collection_id`` (or ``collection_ids``) also goes to ``collection_updates`` for each of them.
    """
    targets: list[tuple[str, str]] = []
    if name.startswith("media.") and isinstance(data.get("id"), str):
        targets.append(("media_updates", data["id"]))
    collections: list[Any] = []
    if name.startswith("collection."):
        collections.append(data.get("collection_id") or data.get("id"))
    collections.append(data.get("collection_id"))
    if isinstance(data.get("collection_ids"), list):
        collections.extend(data["collection_ids"])
    for collection_id in collections:
        if isinstance(collection_id, str) and ("collection_updates", collection_id) not in targets:
            targets.append(("collection_updates", collection_id))
    return targets


class RealtimeHub:
    """The realtime broker of one vault instance (an async context manager run by the vault's lifespan).

    Args:
        config: ``redis_url``, ``redis_key_prefix``, ``path_prefix`` and ``realtime_max_backlog`` are read.

    Attributes:
        channels: the vault's own :class:`~litestar.channels.ChannelsPlugin` (not registered with the app).
    """

    def __init__(self, config: MediaVaultConfig) -> None:
        self._namespace = f"{config.redis_key_prefix}:{config.path_prefix or '/'}"
        self._redis: Any = None
        backend: ChannelsBackend
        if config.redis_url:
            from litestar.channels.backends.redis import RedisChannelsPubSubBackend
            from redis.asyncio import Redis

            self._redis = Redis.from_url(config.redis_url)
            backend = RedisChannelsPubSubBackend(redis=self._redis, key_prefix=f"{config.redis_key_prefix}:channels")
        else:
            backend = MemoryChannelsBackend()
        self.channels = ChannelsPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            create_ws_route_handlers=False,
            subscriber_max_backlog=config.realtime_max_backlog,
            subscriber_backlog_strategy="dropleft",
        )
        self.running = False

    def user_channel(self, user_id: uuid.UUID) -> str:
        """The broker channel carrying ``user_id``'s events."""
        return f"{self._namespace}:user:{user_id}"

    async def __aenter__(self) -> RealtimeHub:
        await self.channels.__aenter__()
        self.running = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.running = False
        try:
            await self.channels.__aexit__(exc_type, exc, tb)
        finally:
            if self._redis is not None:
                await self._redis.aclose()

    def _publish(self, message: dict[str, Any], user_id: uuid.UUID) -> None:
        if not self.running:
            return
        try:
            self.channels.publish(message, self.user_channel(user_id))
        except RuntimeError:  # pragma: no cover - stopped between the check and the call
            logger.debug("realtime broker not running; message dropped")

    async def on_event(self, event: Event) -> None:
        """Event listener (:meth:`~mediavault.events.EventPublisher.subscribe`): publish to the user's channel."""
        if event.user_id is not None:
            self._publish({"kind": "event", "payload": event.payload}, event.user_id)

    def logins_revoked(self, user_id: uuid.UUID) -> None:
        """Tell every socket of ``user_id`` (in every process) to re-check its login now (after a logout)."""
        self._publish({"kind": "recheck"}, user_id)
