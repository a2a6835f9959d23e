"""Custom metadata of media: the owner's JSON object, and the index that makes ``?metadata.<key>=<value>`` cheap.

The object itself is ``mediavault_media.custom_metadata`` (JSON; ``JSONB`` on PostgreSQL). Each top-level entry also
has a row in :data:`~mediavault.db.models.media_metadata` holding :func:`entry_digest` of the entry, so a filter is
one indexed equality on every engine, for any key and any value length. Values compare as strings
(:func:`value_text`): ``?metadata.n=5`` finds ``{"n": 5}`` and ``{"n": "5"}``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.models import Media, media_metadata

__all__ = ("entry_digest", "filter_clause", "index_entries", "value_text")


def value_text(value: Any) -> str:
    """A metadata value as the string a filter compares with: a string as it is, anything else as its JSON text
    (``5``, ``true``, ``null``, ``[1,2]``)."""
    return value if isinstance(value, str) else msgspec.json.encode(value, order="sorted").decode()


def entry_digest(key: str, value_as_text: str) -> str:
    """SHA-256 (hex) of one entry: the JSON array ``[key, value_as_text]``, unambiguous for any characters."""
    return hashlib.sha256(msgspec.json.encode([key, value_as_text])).hexdigest()


def filter_clause(param: str) -> ColumnElement[bool]:
    """``Media.id`` has an entry whose digest is the bound parameter ``param``."""
    return Media.id.in_(select(media_metadata.c.media_id).where(media_metadata.c.digest == bindparam(param)))


async def index_entries(session: AsyncSession, media_id: uuid.UUID, data: Mapping[str, Any], *, fresh: bool) -> None:
    """Write the index rows of ``media_id``'s metadata ``data`` (``fresh``: the item has none yet, else its old
    rows are replaced). The caller commits."""
    if not fresh:
        await session.execute(delete(media_metadata).where(media_metadata.c.media_id == media_id))
    if data:
        rows = [{"media_id": media_id, "digest": entry_digest(k, value_text(v))} for k, v in data.items()]
        await session.execute(insert(media_metadata), rows)
