"""Versions of a media item's bytes: the current one and the previous ones kept (``max_versions``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.models import Media, MediaVersion
from mediavault.db.versions import VersionRepository
from mediavault.domain.media.services import MediaService
from mediavault.domain.media.sniff import filename_for_type
from mediavault.errors import NotFound
from mediavault.storage.base import StorageBackend, StoredFile

__all__ = ("VersionInfo", "VersionService")


@dataclass(frozen=True)
class VersionInfo:
    """One version of an item's bytes as ``GET /media/{id}/versions`` lists it."""

    version: int
    size: int
    checksum_sha256: str
    content_type: str
    created_at: dt.datetime
    current: bool


@dataclass
class _StoredBytes:
    """A version's stored bytes read again as an upload's file
    (:class:`~mediavault.domain.media.services.IncomingFile`)."""

    storage: StorageBackend
    key: str
    filename: str
    fields: Mapping[str, str] = field(default_factory=dict)
    arrived: bool = False  # read from storage as it is written again

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.storage.read(self.key)


_MAX_VERSION = 2**31 - 1
"""The largest version number the ``version`` columns hold (SQL ``INTEGER``)."""


def _version_number(number: str) -> int | None:
    """``number`` (a path segment) as a version number, or ``None`` when it cannot be one (not decimal digits, or
    past :data:`_MAX_VERSION`, which the database would refuse as a parameter)."""
    if not (number.isascii() and number.isdigit()) or len(number) > 10 or int(number) > _MAX_VERSION:
        return None
    return int(number)


class VersionService:
    """Versions of the principal's media, for one request's session.

    Args:
        session: the request's database session.
        storage: where the bytes are (a restore reads a version's bytes again).
        media_service: builds the media service on a session (a restore is a replacement).
    """

    def __init__(
        self, session: AsyncSession, *, storage: StorageBackend, media_service: Callable[[AsyncSession], MediaService]
    ) -> None:
        self.session = session
        self.storage = storage
        self.media = media_service(session)
        self.versions = VersionRepository(session)

    async def list_versions(self, principal: Principal, media_id: str) -> list[VersionInfo]:
        """Every kept version of the principal's media ``media_id``, newest (the current one) first.

        Raises:
            NotFound: unknown, malformed, trashed or someone else's id.
        """
        media = await self.media.get(principal, media_id)
        current = VersionInfo(
            media.version,
            media.size,
            media.checksum_sha256,
            media.content_type,
            media.replaced_at or media.created_at,
            current=True,
        )
        previous = [
            VersionInfo(v.version, v.size, v.checksum_sha256, v.content_type, v.created_at, current=False)
            for v in await self.versions.all(media.id)
        ]
        return [current, *previous]

    async def _version(self, principal: Principal, media_id: str, number: str) -> tuple[Media, MediaVersion | None]:
        """The media and its version ``number`` (``None``: the current one).

        Raises:
            NotFound: as :meth:`list_versions`, or no such version kept (``number`` not a positive integer included).
        """
        media = await self.media.get(principal, media_id)
        wanted = _version_number(number)
        if wanted == media.version:
            return media, None
        version = await self.versions.get(media.id, wanted) if wanted is not None else None
        if version is None:
            raise NotFound("Version not found")
        return media, version

    async def content(self, principal: Principal, media_id: str, number: str) -> StoredFile:
        """The bytes of version ``number`` of the principal's media ``media_id``, to download.

        Raises:
            NotFound: as :meth:`_version`.
        """
        media, version = await self._version(principal, media_id, number)
        if version is None:
            return await self.media.content(principal, media_id)
        return StoredFile(
            await self.versions.content_key(version),
            version.size,
            version.checksum_sha256,
            version.content_type,
            filename_for_type(media.filename, version.content_type),
            version.created_at,
        )

    async def restore(self, principal: Principal, media_id: str, number: str) -> Media:
        """Make version ``number``'s bytes current again: a replacement (:meth:`MediaService.replace`) with a copy of
        them, so ``version`` + 1 and the bytes current until now are kept as a version. The item keeps its name,
        with the extension swapped for the restored type's when it names another type
        (:func:`~mediavault.domain.media.sniff.filename_for_type`: a JPEG version of ``beach.png`` comes back as
        ``beach.jpg``).

        Raises:
            NotFound: as :meth:`_version`.
        """
        media, version = await self._version(principal, media_id, number)
        if version is None:
            key, filename = (await self.media.content(principal, media_id)).key, media.original_filename
        else:
            key = await self.versions.content_key(version)
            filename = filename_for_type(media.original_filename, version.content_type)
        await self.session.commit()  # end the read transaction: the replacement runs its own
        return await self.media.replace(principal, media_id, _StoredBytes(self.storage, key, filename))
