"""Wire shapes of API keys (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from mediavault.db.models import ApiKey

__all__ = ("ApiKeyCreate", "ApiKeyCreated", "ApiKeyOut")


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /users/me/api-keys``: a name to tell the key apart (1-200 characters)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ApiKeyOut(msgspec.Struct):
    """An API key as listed: never the key itself, only its first 12 characters (``prefix``)."""

    id: str
    name: str
    prefix: str
    created_at: dt.datetime

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        """Build from an :class:`~mediavault.db.models.ApiKey` row."""
        return cls(id=str(row.id), name=row.name, prefix=row.prefix, created_at=row.created_at)


class ApiKeyCreated(msgspec.Struct):
    """The answer to a creation: like :class:`ApiKeyOut` plus ``key``, shown this once and never again."""

    id: str
    name: str
    prefix: str
    created_at: dt.datetime
    key: str
