"""Wire shapes of media (msgspec)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import Media, MediaProcessing, MediaVariant
from mediavault.db.repositories import MediaRow

__all__ = (
    "MediaKind",
    "MediaOut",
    "MediaProcessingOut",
    "MediaSort",
    "MediaUpdate",
    "Tags",
    "VariantOut",
)

MediaKind = Literal["image", "video", "audio", "document", "other"]
"""The ``type`` of a media item, derived from its sniffed content type."""
MediaSort = Literal["created_at", "-created_at", "filename", "-filename", "size", "-size"]
"""Orders of ``GET /media`` (``-`` for descending)."""
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]
"""Up to 50 tags of 1-100 characters; stored trimmed and lower-cased."""
Text = Annotated[str, msgspec.Meta(max_length=10_000)]


class MediaOut(wire.Media):
    """A media item as the API shows it; ``width``/``height`` are ``None`` unless it is an image."""

    @classmethod
    def of(cls, media: Media | MediaRow, prefix: str, *, content_url: str | None = None) -> MediaOut:
        """Build from an ORM row or a read :class:`~mediavault.db.repositories.MediaRow`; ``prefix`` is the vault's
        mount path (for ``content_url``).

        ``content_url`` replaces the owner's ``<prefix>/media/{id}/content`` (a share link serves the bytes
        under its own URL).
        """
        media_id = media.id if isinstance(media.id, str) else str(media.id)
        owner_id = media.owner_id if isinstance(media.owner_id, str) else str(media.owner_id)
        # positionally, in wire.Media's field order: keyword arguments cost ~3x as much per item (a page of 20)
        return cls(
            media_id,
            media.filename,
            media.content_type,
            media.kind,
            media.size,
            media.checksum_sha256,
            media.width,
            media.height,
            media.title,
            media.description,
            media.tags,
            owner_id,
            media.created_at,
            media.updated_at,
            content_url or f"{prefix}/media/{media_id}/content",
            media.version,
            media.custom_metadata,
        )


_ORDER = (
    "id", "filename", "content_type", "type", "size", "checksum_sha256", "width", "height", "title", "description",
    "tags", "owner_id", "created_at", "updated_at", "content_url", "version", "metadata",
)  # fmt: skip
if MediaOut.__struct_fields__ != _ORDER:  # MediaOut.of builds positionally: fail at import, never mix fields up
    raise TypeError(f"MediaOut's fields changed order: {MediaOut.__struct_fields__}")


class MediaUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /media/{id}``: only ``title``, ``description``, ``tags`` and ``metadata`` (a JSON merge patch of the
    custom metadata, RFC 7396: ``null`` removes a key)."""

    title: Text | msgspec.UnsetType | None = msgspec.UNSET
    description: Text | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    metadata: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class VariantOut(wire.Variant):
    """A derived file of an item: ``url`` serves it (thumbnails; the ``share`` copy is only served by share links)."""

    @classmethod
    def of(cls, variant: MediaVariant, prefix: str) -> VariantOut:
        """Build from a row; ``prefix`` is the vault's mount path."""
        size = variant.name.removeprefix("thumb-")
        url = f"{prefix}/media/{variant.media_id}/thumbnail?size={size}" if variant.name.startswith("thumb-") else None
        return cls(variant.name, variant.content_type, variant.size, variant.width, variant.height, url)


class MediaProcessingOut(wire.MediaProcessing):
    """``GET /media/{id}/metadata``: processing status, each processor's public results and errors, the variants.

    ``status`` is ``pending`` (not processed yet), ``done`` (``errors`` names the processors that failed) or
    ``failed`` (the item could not be processed at all). Private results (the GPS position) are never shown.
    """

    # the server's own VariantOut (its OpenAPI component), a subclass of the SDK's Variant
    variants: list[VariantOut]  # type: ignore[assignment]

    @classmethod
    def of(
        cls, media: Media, state: MediaProcessing | None, variants: list[MediaVariant], prefix: str
    ) -> MediaProcessingOut:
        """Build from the rows; an item without a processing row (uploaded before processing existed) is ``done``."""
        return cls(
            media_id=str(media.id),
            status=state.status if state else "done",  # type: ignore[arg-type]
            processed_at=state.processed_at if state else None,
            metadata=dict(state.info) if state else {},
            errors=dict(state.errors) if state else {},
            variants=[VariantOut.of(v, prefix) for v in variants],
        )
