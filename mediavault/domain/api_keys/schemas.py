"""Wire shapes of API keys (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import ApiKey

__all__ = ("ApiKeyCreate", "ApiKeyCreated", "ApiKeyOut")


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /users/me/api-keys``: a name to tell the key apart (1-200 characters)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ApiKeyOut(wire.ApiKey):
    """An API key as listed: never the key itself, only its first 12 characters (``prefix``)."""

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        """Build from an :class:`~mediavault.db.models.ApiKey` row."""
        return cls(id=str(row.id), name=row.name, prefix=row.prefix, created_at=row.created_at)


class ApiKeyCreated(wire.ApiKeyCreated):
    """The answer to a creation: like :class:`ApiKeyOut` plus ``key``, shown this once and never again."""
