"""Repository of media processing: the per-item state rows (claimed with a lease) and the variants."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.leases import claim, finish_claim
from mediavault.db.models import MediaProcessing, MediaVariant, utcnow

__all__ = ("ClaimedItem", "ProcessingRepository")


@dataclass(frozen=True)
class ClaimedItem:
    """A pending item this worker holds the lease of."""

    id: uuid.UUID
    media_id: uuid.UUID
    claim_token: uuid.UUID
    attempts: int


class ProcessingRepository:
    """Processing rows and variants, for one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_pending(self, *, limit: int, lease: float) -> list[ClaimedItem]:
        """Lease up to ``limit`` pending items (oldest first); each claim counts one attempt."""
        now = utcnow()
        due = (MediaProcessing.status == "pending") & or_(
            MediaProcessing.claimed_until.is_(None), MediaProcessing.claimed_until < now
        )
        token = await claim(
            self.session,
            MediaProcessing,
            due=due,
            order_by=(MediaProcessing.created_at, MediaProcessing.id),
            limit=limit,
            lease=lease,
            values={"attempts": MediaProcessing.attempts + 1},
        )
        if token is None:
            return []
        rows = await self.session.execute(
            select(MediaProcessing.id, MediaProcessing.media_id, MediaProcessing.attempts).where(
                MediaProcessing.claim_token == token
            )
        )
        return [ClaimedItem(row_id, media_id, token, attempts) for row_id, media_id, attempts in rows.all()]

    async def finish(self, item: ClaimedItem, **values: Any) -> bool:
        """Record the outcome of a claimed item and drop its lease; ``False`` if the claim was lost (the lease ran
        out and another worker took the item, or the media was deleted)."""
        return await finish_claim(self.session, MediaProcessing, item.id, item.claim_token, **values)

    async def release(self, tokens: Sequence[uuid.UUID]) -> None:
        """Give back the leases of items claimed but not finished (the worker is stopping); the attempt is not
        counted against them."""
        if tokens:
            await self.session.execute(
                update(MediaProcessing)
                .where(MediaProcessing.claim_token.in_(tokens), MediaProcessing.status == "pending")
                .values(claim_token=None, claimed_until=None, attempts=MediaProcessing.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def state(self, media_id: uuid.UUID) -> MediaProcessing | None:
        """The processing row of an item (``None`` for items uploaded before processing existed)."""
        return await self.session.scalar(select(MediaProcessing).where(MediaProcessing.media_id == media_id))

    async def variants(self, media_id: uuid.UUID) -> list[MediaVariant]:
        """An item's variants, by name."""
        rows = await self.session.scalars(
            select(MediaVariant).where(MediaVariant.media_id == media_id).order_by(MediaVariant.name)
        )
        return list(rows)

    async def variant(self, media_id: uuid.UUID, name: str) -> MediaVariant | None:
        """One variant of an item by name, or ``None``."""
        return await self.session.scalar(
            select(MediaVariant).where(MediaVariant.media_id == media_id, MediaVariant.name == name)
        )
