"""Repository of media processing: the per-item state rows (claimed with a lease) and the variants."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
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

    async def retry_later(self, item: ClaimedItem, *, delay: float, cause: str, failures: int) -> bool:
        """Give a claimed item back after a transient error: claimable again in ``delay`` seconds, this claim not
        counted as an attempt, ``cause`` shown to the owner as the ``worker`` error; ``False`` if the claim was lost.

        ``failures`` (transient failures so far) is kept in ``private`` for the next delay."""
        if not await finish_claim(
            self.session,
            MediaProcessing,
            item.id,
            item.claim_token,
            attempts=MediaProcessing.attempts - 1,
            errors={"worker": cause},
            private={"worker": {"transient_failures": failures}},
        ):
            return False
        await self.session.execute(  # claimable again only from then on (see claim_pending's ``due``)
            update(MediaProcessing)
            .where(MediaProcessing.id == item.id)
            .values(claimed_until=utcnow() + dt.timedelta(seconds=delay))
            .execution_options(synchronize_session=False)
        )
        return True

    async def transient_failures(self, row_id: uuid.UUID) -> int:
        """Transient failures recorded for an item so far (:meth:`retry_later`)."""
        private = await self.session.scalar(select(MediaProcessing.private).where(MediaProcessing.id == row_id))
        return int((private or {}).get("worker", {}).get("transient_failures", 0))

    async def requeue(self, media_ids: Sequence[uuid.UUID] | None = None, *, failed_only: bool = False) -> int:
        """Process items again from scratch: ``pending``, no attempts, results and errors cleared, any lease dropped
        (a worker holding one finds its claim lost and drops its results). ``media_ids`` ``None``: every item;
        ``failed_only``: only those marked ``failed``. Returns how many were queued (items without a processing
        row, uploaded before processing existed, get one)."""
        where: list[ColumnElement[bool]] = [] if media_ids is None else [MediaProcessing.media_id.in_(media_ids)]
        if failed_only:
            where.append(MediaProcessing.status == "failed")
        result = await self.session.execute(
            update(MediaProcessing)
            .where(*where)
            .values(
                status="pending",
                attempts=0,
                claim_token=None,
                claimed_until=None,
                processed_at=None,
                info={},
                private={},
                errors={},
            )
            .execution_options(synchronize_session=False)
        )
        queued: int = result.rowcount  # type: ignore[attr-defined]
        if media_ids is not None and not failed_only:
            known = set(await self.session.scalars(select(MediaProcessing.media_id).where(*where)))
            for media_id in set(media_ids) - known:
                self.session.add(MediaProcessing(media_id=media_id))
                queued += 1
        return queued

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
