"""Previous versions of media items' bytes (``PUT /media/{id}/content``), and the bytes they hold.

A version owns its bytes at ``storage_key`` or shares a deduplicated :class:`~mediavault.db.models.Blob`
(``blob_id``). Removing versions returns the storage keys whose bytes the caller deletes after committing: a
version's own key, or its blob's once nothing else uses the blob (:meth:`BlobRepository.release`), so bytes that
another item or version still reads stay.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.blobs import BlobRepository
from mediavault.db.models import Blob, Media, MediaVersion, media_blob

__all__ = ("VersionRepository",)


class VersionRepository:
    """Versions of media items, for one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.blobs = BlobRepository(session)

    async def push(self, media: Media) -> MediaVersion:
        """Record ``media``'s current bytes as a previous version (before new ones replace them): a deduplicated
        item's blob link moves to the version."""
        blob = await self.blobs.blob_of(media.id)
        if blob is not None:
            await self.session.execute(delete(media_blob).where(media_blob.c.media_id == media.id))
        version = MediaVersion(
            media_id=media.id,
            version=media.version,
            storage_key=media.storage_key,
            blob_id=blob[0] if blob else None,
            size=media.size,
            checksum_sha256=media.checksum_sha256,
            content_type=media.content_type,
            created_at=media.replaced_at or media.created_at,
        )
        self.session.add(version)
        await self.session.flush()
        return version

    async def all(self, media_id: uuid.UUID) -> list[MediaVersion]:
        """The previous versions of ``media_id``, newest first."""
        stmt = select(MediaVersion).where(MediaVersion.media_id == media_id).order_by(MediaVersion.version.desc())
        return list(await self.session.scalars(stmt))

    async def get(self, media_id: uuid.UUID, number: int) -> MediaVersion | None:
        """Version ``number`` of ``media_id``, if it is kept."""
        return await self.session.scalar(
            select(MediaVersion).where(MediaVersion.media_id == media_id, MediaVersion.version == number)
        )

    async def content_key(self, version: MediaVersion) -> str:
        """Where ``version``'s bytes are read: its blob's key, or its own."""
        if version.blob_id is None:
            return version.storage_key
        return str(await self.session.scalar(select(Blob.storage_key).where(Blob.id == version.blob_id)))

    async def prune(self, media_id: uuid.UUID, keep: int) -> list[str]:
        """Delete ``media_id``'s versions beyond the ``keep`` newest; returns the keys of bytes to delete."""
        old = (await self.all(media_id))[keep:]
        return await self._remove(old)

    async def remove_all(self, media_id: uuid.UUID) -> list[str]:
        """Delete every version of ``media_id`` (before the item itself); returns the keys of bytes to delete."""
        return await self._remove(await self.all(media_id))

    async def _remove(self, versions: Sequence[MediaVersion]) -> list[str]:
        if not versions:
            return []
        await self.session.execute(
            delete(MediaVersion)
            .where(MediaVersion.id.in_([v.id for v in versions]))
            .execution_options(synchronize_session=False)
        )
        keys = []
        for version in versions:
            if version.blob_id is None:
                keys.append(version.storage_key)
            elif released := await self.blobs.release(version.blob_id):
                keys.append(released)
        return keys
