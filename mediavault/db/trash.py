"""The trash (``trash_retention_days`` > 0): media deleted but restorable until they are purged.

A trashed item keeps its row, memberships, shares and bytes; a row in :data:`~mediavault.db.models.media_trash`
marks it, and every read of media adds :func:`not_trashed`, so the item is gone for every route until it is
restored. The clause probes the trash's primary key for each candidate row, so list queries keep picking their
pages from the ``(owner_id, <sort column>, id)`` indexes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import Media, media_trash, utcnow

__all__ = ("TrashRepository", "not_trashed")


def not_trashed(owner: Any) -> ColumnElement[bool]:
    """``Media`` rows of ``owner`` (a value or a bound parameter) that are not in the trash.

    A correlated ``NOT EXISTS`` on the trash's primary key: one index probe per candidate row, which SQLite and
    PostgreSQL (an anti-join) run without building the owner's list of trashed ids first. ``owner`` is kept in
    the clause so the probe stays within the owner's rows.
    """
    trashed = select(media_trash.c.media_id).where(media_trash.c.media_id == Media.id, media_trash.c.owner_id == owner)
    return ~trashed.exists()


class TrashRepository:
    """Trash rows, for one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, media: Media) -> dt.datetime:
        """Move ``media`` to the trash now; returns the time it was deleted."""
        now = utcnow()
        await self.session.execute(
            insert(media_trash).values(media_id=media.id, owner_id=media.owner_id, deleted_at=now)
        )
        return now

    async def take_out(self, media_id: uuid.UUID) -> bool:
        """Take ``media_id`` out of the trash (its trash row goes; to restore it, or to claim it for purging);
        ``False`` when it was not there (a concurrent restore or purge took it first: on PostgreSQL this waits for
        that transaction, on SQLite writers take turns)."""
        result = await self.session.execute(delete(media_trash).where(media_trash.c.media_id == media_id))
        return bool(getattr(result, "rowcount", 0))

    async def get(self, owner_id: uuid.UUID, media_id: uuid.UUID) -> tuple[Media, dt.datetime] | None:
        """``owner_id``'s trashed media ``media_id`` and when it was deleted, ``None`` when there is none."""
        row = (
            await self.session.execute(
                select(Media, media_trash.c.deleted_at)
                .join(media_trash, media_trash.c.media_id == Media.id)
                .where(Media.id == media_id, media_trash.c.owner_id == owner_id)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def page(
        self, owner_id: uuid.UUID, *, offset: int, limit: int
    ) -> tuple[list[tuple[Media, dt.datetime]], int]:
        """One page of ``owner_id``'s trash, most recently deleted first, and the total."""
        where = media_trash.c.owner_id == owner_id
        total = int(await self.session.scalar(select(func.count()).select_from(media_trash).where(where)) or 0)
        if offset >= total:
            return [], total
        rows = await self.session.execute(
            select(Media, media_trash.c.deleted_at)
            .join(media_trash, media_trash.c.media_id == Media.id)
            .where(where)
            .order_by(media_trash.c.deleted_at.desc(), media_trash.c.media_id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(m, d) for m, d in rows.tuples()], total

    async def ids(
        self, *, owner_id: uuid.UUID | None = None, deleted_before: dt.datetime | None = None
    ) -> list[uuid.UUID]:
        """Ids of trashed media: ``owner_id``'s, or deleted before ``deleted_before`` (due for purging)."""
        stmt = select(media_trash.c.media_id)
        if owner_id is not None:
            stmt = stmt.where(media_trash.c.owner_id == owner_id)
        if deleted_before is not None:
            stmt = stmt.where(media_trash.c.deleted_at < deleted_before)
        return list(await self.session.scalars(stmt))
