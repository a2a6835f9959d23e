"""Wire shapes of collections (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import Collection

__all__ = ("CollectionAddMedia", "CollectionCreate", "CollectionOut", "CollectionUpdate")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
"""A collection's name: 1-200 characters (surrounding whitespace trimmed; blank is refused)."""
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
MediaIds = Annotated[list[str], msgspec.Meta(min_length=1, max_length=1000)]
"""1-1000 media ids (duplicates allowed, counted once)."""


class CollectionOut(wire.Collection):
    """A collection as the API shows it; ``media_count`` is the number of member media right now."""

    @classmethod
    def of(cls, collection: Collection, media_count: int) -> CollectionOut:
        """Build from a row and its member count."""
        return cls(
            id=str(collection.id),
            name=collection.name,
            description=collection.description,
            owner_id=str(collection.owner_id),
            media_count=media_count,
            created_at=collection.created_at,
            updated_at=collection.updated_at,
        )


class CollectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /collections``."""

    name: Name
    description: Text | None = None


class CollectionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``PATCH /collections/{id}``: ``name`` and/or ``description`` (``null`` clears it)."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType | None = msgspec.UNSET


class CollectionAddMedia(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /collections/{id}/media``: ids of the caller's media to add."""

    media_ids: MediaIds
