"""Wire shapes of media (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from mediavault.db.models import Media

__all__ = ("MediaKind", "MediaOut", "MediaSort", "MediaUpdate", "Tags")

MediaKind = Literal["image", "video", "audio", "document", "other"]
"""The ``type`` of a media item, derived from its sniffed content type."""
MediaSort = Literal["created_at", "-created_at", "filename", "-filename", "size", "-size"]
"""Orders of ``GET /media`` (``-`` for descending)."""
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]
"""Up to 50 tags of 1-100 characters; stored trimmed and lower-cased."""
Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class MediaOut(msgspec.Struct):
    """A media item as the API shows it; ``width``/``height`` are ``None`` unless it is an image."""

    id: str
    filename: str
    content_type: str
    type: str
    size: int
    checksum_sha256: str
    width: int | None
    height: int | None
    title: str | None
    description: str | None
    tags: list[str]
    owner_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    content_url: str

    @classmethod
    def of(cls, media: Media, prefix: str, *, content_url: str | None = None) -> MediaOut:
        """Build from a row; ``prefix`` is the vault's mount path (for ``content_url``).

        ``content_url`` replaces the owner's ``<prefix>/media/{id}/content`` (a share link serves the bytes
        under its own URL).
        """
        return cls(
            id=str(media.id),
            filename=media.filename,
            content_type=media.content_type,
            type=media.kind,
            size=media.size,
            checksum_sha256=media.checksum_sha256,
            width=media.width,
            height=media.height,
            title=media.title,
            description=media.description,
            tags=media.tags,
            owner_id=str(media.owner_id),
            created_at=media.created_at,
            updated_at=media.updated_at,
            content_url=content_url or f"{prefix}/media/{media.id}/content",
        )


class MediaUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /media/{id}``: only ``title``, ``description`` and ``tags``."""

    title: Text | msgspec.UnsetType | None = msgspec.UNSET
    description: Text | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
