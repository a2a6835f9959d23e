"""Deduplicated bytes: one :class:`~mediavault.db.models.Blob` per ``(owner, SHA-256)``, shared by media items.

Race-free on SQLite and PostgreSQL without application locks:

* :meth:`BlobRepository.attach` inserts the blob with ``ON CONFLICT DO NOTHING`` on the unique
  ``(owner_id, checksum_sha256)`` (two concurrent identical uploads: the second waits for the first and inserts
  nothing), then links the item to whichever blob is there. If the blob is deleted in between, the link's foreign
  key fails (or no blob is found) and the caller retries its whole transaction.
* :meth:`BlobRepository.release` locks the blob row (``FOR UPDATE`` on PostgreSQL; SQLite has one writer at a
  time), counts the remaining links and deletes the blob only when none is left; the ``RESTRICT`` foreign key of
  the links refuses any other outcome.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import Blob, MediaVersion, media_blob

__all__ = ("BlobGone", "BlobRepository")


class BlobGone(Exception):
    """The blob to attach to was deleted meanwhile: retry the transaction."""


class BlobRepository:
    """Blobs and their links, for one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        bind = session.bind
        self.postgres = bind is not None and bind.dialect.name == "postgresql"

    async def attach(self, media_id: uuid.UUID, owner_id: uuid.UUID, checksum_sha256: str, size: int, key: str) -> str:
        """Link ``media_id`` to the owner's blob of ``checksum_sha256``, creating it at ``key`` if there is none.

        Returns:
            The blob's storage key: ``key`` if the bytes just written are the blob, else the key of the bytes
            already stored (the caller then deletes ``key`` after committing).

        Raises:
            BlobGone: the blob was deleted between the insert and the lookup (retry).
            sqlalchemy.exc.IntegrityError: the blob was deleted before the link was written (retry).
        """
        insert = pg_insert if self.postgres else sqlite_insert
        await self.session.execute(
            insert(Blob)
            .values(id=uuid.uuid4(), owner_id=owner_id, checksum_sha256=checksum_sha256, size=size, storage_key=key)
            .on_conflict_do_nothing(index_elements=["owner_id", "checksum_sha256"])
        )
        found = (
            await self.session.execute(
                select(Blob.id, Blob.storage_key).where(
                    Blob.owner_id == owner_id, Blob.checksum_sha256 == checksum_sha256
                )
            )
        ).first()
        if found is None:
            raise BlobGone(checksum_sha256)
        blob_id, blob_key = found
        await self.session.execute(media_blob.insert().values(media_id=media_id, blob_id=blob_id))
        return str(blob_key)

    async def blob_of(self, media_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        """``(blob id, storage key)`` of a deduplicated item, ``None`` for an item that owns its bytes."""
        row = (
            await self.session.execute(
                select(Blob.id, Blob.storage_key)
                .join(media_blob, media_blob.c.blob_id == Blob.id)
                .where(media_blob.c.media_id == media_id)
            )
        ).first()
        return (row[0], str(row[1])) if row is not None else None

    async def content_key(self, media_id: uuid.UUID, own_key: str) -> str:
        """Where the bytes of an item are read: its blob's key when it was deduplicated, else ``own_key`` (its
        ``storage_key``)."""
        blob = await self.blob_of(media_id)
        return blob[1] if blob else own_key

    async def release(self, blob_id: uuid.UUID) -> str | None:
        """Delete the blob if no item and no previous version links to it any more (call after deleting a link).

        Returns:
            The storage key whose bytes the caller deletes after committing, or ``None`` (still in use).
        """
        lock = select(Blob.storage_key).where(Blob.id == blob_id)
        key = await self.session.scalar(lock.with_for_update() if self.postgres else lock)
        if key is None:
            return None
        links = await self.session.scalar(
            select(func.count()).select_from(media_blob).where(media_blob.c.blob_id == blob_id)
        )
        if links or await self.session.scalar(select(MediaVersion.id).where(MediaVersion.blob_id == blob_id).limit(1)):
            return None
        await self.session.execute(delete(Blob).where(Blob.id == blob_id))
        return str(key)
