"""The trash: list, restore and purge deleted media; the worker's purge of media past the retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.audit import AuditTrail
from mediavault.db.availability import log_retry
from mediavault.db.models import Media, utcnow
from mediavault.db.trash import TrashRepository
from mediavault.domain.media.services import MediaService
from mediavault.domain.ownership import parse_id
from mediavault.errors import Conflict, NotFound
from mediavault.events import EventPublisher

__all__ = ("TrashService", "purge_expired", "purge_periodically")

logger = logging.getLogger("mediavault")


class TrashService:
    """The principal's trash, for one request's session.

    Args:
        session: the request's database session (the service commits it).
        events: the outbox publisher.
        retention_days: ``trash_retention_days`` (when an item is purged).
        media_service: builds the media service on a session (its purge removes rows and bytes).
        audit: the audit log (restores).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        events: EventPublisher,
        retention_days: float,
        media_service: Callable[[AsyncSession], MediaService],
        audit: AuditTrail | None = None,
    ) -> None:
        self.session = session
        self.audit = audit or AuditTrail()
        self.events = events
        self.retention = dt.timedelta(days=retention_days)
        self.media = media_service(session)
        self.trash = TrashRepository(session)

    def purge_at(self, deleted_at: dt.datetime) -> dt.datetime:
        """When an item deleted at ``deleted_at`` is purged."""
        return deleted_at + self.retention

    async def list_page(
        self, principal: Principal, *, page: int, per_page: int
    ) -> tuple[list[tuple[Media, dt.datetime]], int]:
        """One page of the principal's trashed media with their deletion times, most recent first, and the total."""
        return await self.trash.page(principal.user_id, offset=(page - 1) * per_page, limit=per_page)

    async def _get(self, principal: Principal, media_id: str) -> Media:
        found = await self.trash.get(principal.user_id, parse_id(media_id))
        if found is None:
            raise NotFound("Media not found in the trash")
        return found[0]

    async def restore(self, principal: Principal, media_id: str) -> Media:
        """Take the principal's media ``media_id`` out of the trash, back where it was (collections, shares);
        emits ``media.restored``.

        Raises:
            NotFound: not in the principal's trash (unknown, malformed, someone else's, or not deleted).
        """
        media = await self._get(principal, media_id)
        if not await self.trash.take_out(media.id):  # purged (or restored) meanwhile by another request
            await self.session.rollback()
            raise NotFound("Media not found in the trash")
        self.events.publish(self.session, "media.restored", MediaService.event_data(media), user_id=media.owner_id)
        self.audit.record(
            self.session, "media.restored", actor_id=principal.user_id, target_type="media", target_id=media.id
        )
        await self.session.commit()
        return media

    async def purge(self, principal: Principal, media_id: str) -> None:
        """Delete the principal's trashed media ``media_id`` now, with its bytes (``media.deleted``).

        Raises:
            NotFound: as :meth:`restore`.
        """
        media = await self._get(principal, media_id)
        if not await _claim(self.trash, media):
            raise NotFound("Media not found in the trash")
        await self.media.purge(media)

    async def empty(self, principal: Principal) -> int:
        """Delete every item of the principal's trash now, with their bytes; returns how many."""
        ids = await self.trash.ids(owner_id=principal.user_id)
        for media_id in ids:
            found = await self.trash.get(principal.user_id, media_id)
            if found is not None and await _claim(self.trash, found[0]):  # else restored or purged meanwhile
                await self.media.purge(found[0])
        return len(ids)


async def _claim(trash: TrashRepository, media: Media) -> bool:
    """Take ``media`` out of the trash in the transaction that will purge it, so that a restore committed since it
    was read wins (the purge is dropped, rolled back) instead of being told 200 for an item then purged; ``False``
    when it is no longer there."""
    if await trash.take_out(media.id):
        return True
    await trash.session.rollback()
    return False


async def purge_expired(
    session_factory: Callable[[], AsyncSession],
    media_service: Callable[[AsyncSession], MediaService],
    retention_days: float,
) -> int:
    """Purge every trashed item deleted more than ``retention_days`` ago, with its bytes (``media.deleted`` each);
    returns how many were due. Several processes may run it at once: an item already purged is skipped; one a host
    row references (:func:`mediavault.db.media_fk`) stays in the trash, logged."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    async with session_factory() as session:
        trash = TrashRepository(session)
        ids = await trash.ids(deleted_before=cutoff)
        service = media_service(session)
        for media_id in ids:
            media = await session.get(Media, media_id)
            if (
                media is not None
                and await trash.get(media.owner_id, media_id) is not None
                and await _claim(trash, media)
            ):
                try:
                    await service.purge(media)
                except Conflict as exc:  # a host row references it: it stays in the trash, the others go
                    logger.warning("trashed media %s not purged: %s", media_id, exc)
            else:
                await session.rollback()
    return len(ids)


async def purge_periodically(
    session_factory: Callable[[], AsyncSession],
    media_service: Callable[[AsyncSession], MediaService],
    *,
    retention_days: float,
    interval: float,
) -> None:
    """Run :func:`purge_expired` now and then every ``interval`` seconds, until cancelled (the worker's part of
    ``trash_retention_days``)."""
    while True:
        try:
            if purged := await purge_expired(session_factory, media_service, retention_days):
                logger.info("purged %d media from the trash past their retention", purged)
        except Exception as exc:
            log_retry(logger, exc, "purging the trash failed; trying again in %g s", interval)
        await asyncio.sleep(interval)
