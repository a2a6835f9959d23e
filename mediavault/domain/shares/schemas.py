"""Wire shapes of share links (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from mediavault.db.models import Share
from mediavault.domain.collections.schemas import CollectionOut
from mediavault.domain.media.schemas import MediaOut
from mediavault.domain.users.schemas import Password

__all__ = ("MAX_EXPIRES_IN", "PublicCollection", "PublicMedia", "ShareCreate", "ShareOut")

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
"""Longest ``expires_in`` accepted: ten years, in seconds."""
ExpiresIn = Annotated[int, msgspec.Meta(ge=1, le=MAX_EXPIRES_IN)]


class ShareCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /shares``: exactly one of ``media_id`` / ``collection_id``.

    ``expires_in``: seconds from now (1 s to 10 years), none = never. ``password``: 8-1024 characters, then
    required in ``X-Share-Password`` to open the link. ``allow_download``: whether the bytes may be fetched.
    """

    media_id: str | None = None
    collection_id: str | None = None
    expires_in: ExpiresIn | None = None
    password: Password | None = None
    allow_download: bool = True


class ShareOut(msgspec.Struct):
    """A share link as its owner sees it.

    ``token`` and ``url`` are only known when the link is created (the vault keeps a hash, never the token);
    in ``GET /shares`` they are ``null``.
    """

    id: str
    token: str | None
    url: str | None
    expires_at: dt.datetime | None
    allow_download: bool
    has_password: bool
    media_id: str | None
    collection_id: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, share: Share, prefix: str, token: str | None = None) -> ShareOut:
        """Build from a row; ``token`` only right after creation."""
        return cls(
            id=str(share.id),
            token=token,
            url=f"{prefix}/s/{token}" if token else None,
            expires_at=share.expires_at,
            allow_download=share.allow_download,
            has_password=share.password_hash is not None,
            media_id=str(share.media_id) if share.media_id else None,
            collection_id=str(share.collection_id) if share.collection_id else None,
            created_at=share.created_at,
        )


class PublicMedia(msgspec.Struct, kw_only=True):
    """``GET /s/{token}`` of a media share."""

    type: Literal["media"] = "media"
    media: MediaOut


class PublicCollection(msgspec.Struct, kw_only=True):
    """``GET /s/{token}`` of a collection share: the collection and one page of its media."""

    type: Literal["collection"] = "collection"
    collection: CollectionOut
    media: list[MediaOut]
