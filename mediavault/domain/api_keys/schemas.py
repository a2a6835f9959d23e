"""Wire shapes of API keys (msgspec)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from mediavault_sdk import types as wire

from mediavault.auth.scopes import SCOPES
from mediavault.db.models import ApiKey

__all__ = ("MAX_KEY_LIFETIME", "ApiKeyCreate", "ApiKeyCreated", "ApiKeyOut")

MAX_KEY_LIFETIME = 10 * 365 * 86400
"""The longest ``expires_in`` (seconds): ten years."""


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /users/me/api-keys``: a name to tell the key apart (1-200 characters), optionally the ``scopes`` it is
    limited to (absent: every scope) and ``expires_in`` (seconds, 60 to ten years; absent: never)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    scopes: Annotated[list[str], msgspec.Meta(max_length=len(SCOPES) * 2)] | None = None
    expires_in: Annotated[int, msgspec.Meta(ge=60, le=MAX_KEY_LIFETIME)] | None = None


class ApiKeyOut(wire.ApiKey):
    """An API key as listed: never the key itself, only its first 12 characters (``prefix``)."""

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        """Build from an :class:`~mediavault.db.models.ApiKey` row (no ``scopes`` stored: every scope)."""
        return cls(**_fields(row))


class ApiKeyCreated(wire.ApiKeyCreated):
    """The answer to a creation: like :class:`ApiKeyOut` plus ``key``, shown this once and never again."""

    @classmethod
    def of(cls, row: ApiKey, key: str) -> ApiKeyCreated:
        """Build from the new row and the key in clear."""
        return cls(**_fields(row), key=key)


def _fields(row: ApiKey) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "scopes": list(row.scopes) if row.scopes is not None else list(SCOPES),
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
    }
