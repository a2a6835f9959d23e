"""Wire shapes of share links (msgspec)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import Collection, Media, Share
from mediavault.domain.collections.schemas import CollectionOut
from mediavault.domain.media.services import stored_file
from mediavault.domain.users.schemas import Password
from mediavault.storage.base import StoredFile

__all__ = (
    "MAX_EXPIRES_IN",
    "PublicCollection",
    "PublicMedia",
    "ShareCreate",
    "ShareOut",
    "SharedCollectionOut",
    "SharedMediaOut",
)

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
"""Longest ``expires_in`` accepted: ten years, in seconds."""
ExpiresIn = Annotated[int, msgspec.Meta(ge=1, le=MAX_EXPIRES_IN)]


class ShareCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /shares``: exactly one of ``media_id`` / ``collection_id``.

    ``expires_in``: seconds from now (1 s to 10 years), none = never. ``password``: 8-1024 characters, then
    required in ``X-Share-Password`` to open the link. ``allow_download``: whether the bytes may be fetched.
    ``allow_upload``: whether whoever holds a collection link may upload into the collection (a media link: 400).
    """

    media_id: str | None = None
    collection_id: str | None = None
    expires_in: ExpiresIn | None = None
    password: Password | None = None
    allow_download: bool = True
    allow_upload: bool = False


class ShareOut(wire.Share):
    """A share link as its owner sees it.

    ``token`` and ``url`` are only known when the link is created (the vault keeps a hash, never the token);
    in ``GET /shares`` they are ``null``.
    """

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
            allow_upload=share.allow_upload,
        )


class SharedMediaOut(wire.SharedMedia):
    """A media item as a share link shows it: the media object without ``owner_id``, describing the file the link
    serves (the contract's Sharing section).

    ``filename`` is the sanitised name of that file (``scan.png`` for a TIFF shared as PNG), ``content_type``,
    ``size``, ``checksum_sha256``, ``width`` and ``height`` are the served copy's (without metadata, for images);
    ``size`` and ``checksum_sha256`` are ``null`` for an image the link refuses to serve (it cannot be shown
    without its metadata: its content URL answers 403).
    """

    @classmethod
    def of(
        cls, media: Media, file: StoredFile | None, width: int | None, height: int | None, content_url: str
    ) -> SharedMediaOut:
        """Build from what the link serves for an item (a :class:`~mediavault.domain.shares.services.SharedMedia`:
        the item, the file served and its dimensions); ``content_url`` is the link's own URL for its bytes."""
        return cls(
            id=str(media.id),
            filename=file.filename if file else media.filename,
            content_type=file.content_type if file else media.content_type,
            type=media.kind,
            size=file.size if file else None,
            checksum_sha256=file.checksum_sha256 if file else None,
            width=width,
            height=height,
            title=media.title,
            description=media.description,
            tags=media.tags,
            created_at=media.created_at,
            updated_at=media.updated_at,
            content_url=content_url,
        )

    @classmethod
    def of_upload(cls, media: Media, content_url: str) -> SharedMediaOut:
        """Build for an item a guest just uploaded through a collection link (``POST /s/{token}/upload``): the
        stored upload as it was received (its ``size``, ``checksum_sha256`` and dimensions), ``owner_id`` left
        out like on every public route; ``content_url`` is the link's own URL for the item's bytes."""
        return cls.of(media, stored_file(media, media.storage_key), media.width, media.height, content_url)


class SharedCollectionOut(wire.SharedCollection):
    """A collection as a share link shows it: the collection object without ``owner_id``."""

    @classmethod
    def of(cls, collection: Collection, media_count: int) -> SharedCollectionOut:
        """Build from a row and its member count (the owner's :class:`CollectionOut`, less ``owner_id``)."""
        fields = msgspec.structs.asdict(CollectionOut.of(collection, media_count))
        del fields["owner_id"]
        return cls(**fields)


class PublicMedia(msgspec.Struct, kw_only=True):
    """``GET /s/{token}`` of a media share."""

    type: Literal["media"] = "media"
    media: SharedMediaOut


class PublicCollection(msgspec.Struct, kw_only=True):
    """``GET /s/{token}`` of a collection share: the collection and one page of its media."""

    type: Literal["collection"] = "collection"
    collection: SharedCollectionOut
    media: list[SharedMediaOut]
