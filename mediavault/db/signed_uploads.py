"""Signed upload URLs (:class:`~mediavault.db.models.SignedUpload`): looked up by the hash of their token, spent by
deleting their row.

Spending is a ``DELETE`` of the row in the transaction that records the upload: of two uploads racing on one URL,
the second one's ``DELETE`` waits for the first transaction (PostgreSQL's row lock; SQLite has one writer at a time)
and then finds no row, so exactly one of them commits.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import SignedUpload, User, utcnow

__all__ = ("SignedUploadRepository",)


class SignedUploadRepository:
    """Signed upload URLs, for one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, grant: SignedUpload) -> SignedUpload:
        """Insert ``grant``, first deleting every URL (of any owner) that has expired, so the table only holds live
        URLs and those that expired since the last one was signed."""
        await self.session.execute(delete(SignedUpload).where(SignedUpload.expires_at <= utcnow()))
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def live(self, token_hash: str, now: dt.datetime) -> SignedUpload | None:
        """The unspent URL whose token hashes to ``token_hash`` (hex SHA-256), unless it expired by ``now`` or its
        signer is disabled (an admin's disabling stops uploads into the account, until it is enabled again)."""
        return await self.session.scalar(
            select(SignedUpload)
            .join(User, User.id == SignedUpload.owner_id)
            .where(SignedUpload.token_hash == token_hash, SignedUpload.expires_at > now, User.disabled_at.is_(None))
        )

    async def spend(self, grant_id: uuid.UUID) -> bool:
        """Delete the URL ``grant_id``; ``False`` when another transaction spent it first."""
        result = await self.session.execute(
            delete(SignedUpload).where(SignedUpload.id == grant_id).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
