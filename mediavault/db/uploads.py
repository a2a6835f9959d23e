"""Rows of resumable (tus) uploads: owner-scoped reads, compare-and-set appends, the expiry sweep's picks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import Upload, utcnow

__all__ = ("UploadRepository",)


class UploadRepository:
    """The ``mediavault_upload`` table, on the caller's session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live(self, owner_id: uuid.UUID, upload_id: uuid.UUID) -> Upload | None:
        """The owner's upload ``upload_id`` unless it expired (expired and foreign ones are the same ``None``)."""
        return await self.session.scalar(
            select(Upload)
            .where(Upload.id == upload_id, Upload.owner_id == owner_id, Upload.expires_at > utcnow())
            .execution_options(populate_existing=True)
        )

    async def advance(
        self, upload_id: uuid.UUID, expected: int, offset: int, state: Mapping[str, Any], **values: Any
    ) -> bool:
        """Record ``offset`` and the storage ``state`` of upload ``upload_id`` if its offset is still ``expected``
        and no media was made of it yet (compare-and-set: of two appends from the same offset one wins); ``values``
        are further columns (``media_id``, ``expires_at``). Whether it was recorded."""
        now = utcnow()
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(Upload)
            .where(Upload.id == upload_id, Upload.offset == expected, Upload.media_id.is_(None))
            .values(offset=offset, storage_state=dict(state), updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def claim_completion(self, upload_id: uuid.UUID, expected: int) -> int | None:
        """Count one more attempt to write the finished object of upload ``upload_id`` if its offset is still
        ``expected`` and no media was made of it yet; returns the attempt's number (1, 2, ...), ``None`` when the
        upload changed. An atomic increment: two attempts never get the same number."""
        result = await self.session.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.offset == expected, Upload.media_id.is_(None))
            .values(completions=Upload.completions + 1)
            .returning(Upload.completions)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none()

    async def media_of(self, upload_id: uuid.UUID) -> uuid.UUID | None:
        """The media made of upload ``upload_id`` (``None``: none yet, or no such upload)."""
        return await self.session.scalar(select(Upload.media_id).where(Upload.id == upload_id))

    async def expired(self, now: dt.datetime, limit: int) -> list[Upload]:
        """Up to ``limit`` uploads whose ``expires_at`` has passed, oldest first."""
        return list(
            await self.session.scalars(
                select(Upload).where(Upload.expires_at <= now).order_by(Upload.expires_at).limit(limit)
            )
        )

    async def remove(self, upload_id: uuid.UUID, *, expired_at: dt.datetime | None = None) -> Upload | None:
        """Delete the row ``upload_id`` (only if it expired by ``expired_at`` when given); the row as it was when
        deleted (``DELETE ... RETURNING``), ``None`` if it was not there. Its bytes are to be removed from this copy,
        never from one read earlier: a completion committed in between changed which object is the media's."""
        statement = delete(Upload).where(Upload.id == upload_id)
        if expired_at is not None:
            statement = statement.where(Upload.expires_at <= expired_at)
        result = await self.session.execute(
            statement.returning(Upload).execution_options(synchronize_session=False, populate_existing=True)
        )
        return result.scalar_one_or_none()
